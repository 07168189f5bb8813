// Shim over the NATS C client (Debian libnats-dev 3.4), used by the engine's event relay (docs/events.md).
// Fixed-size C arrays and option structs Swift handles awkwardly are filled here, as hf_nats_* helpers.
#ifndef HEXFLEET_CNATS_SHIM_H
#define HEXFLEET_CNATS_SHIM_H
#include <nats/nats.h>
#include <string.h>

// Creates the stream `name` over `subjectCount` subjects (file storage, `replicas` copies, a duplicate window of
// `duplicateWindowMs`) unless it exists; an existing stream is left as it is (an operator may have tuned it).
// Swift would need a C array of C strings that outlives the call; here it lives on the stack.
static inline natsStatus hf_nats_ensure_stream(jsCtx *js, const char *name, const char *const *subjects,
                                               int subjectCount, int replicas, int64_t duplicateWindowMs,
                                               jsErrCode *errorCode) {
    jsStreamInfo *info = NULL;
    natsStatus s = js_GetStreamInfo(&info, js, name, NULL, errorCode);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(info);
        return NATS_OK;
    }
    if (s != NATS_NOT_FOUND) return s;
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name;
    config.Subjects = (const char **)subjects;
    config.SubjectsLen = subjectCount;
    config.Storage = js_FileStorage;
    config.Replicas = replicas;
    config.Duplicates = duplicateWindowMs * 1000000;   // the field is in nanoseconds
    s = js_AddStream(&info, js, &config, NULL, errorCode);
    if (s == NATS_OK) jsStreamInfo_Destroy(info);
    return s;
}

#endif
