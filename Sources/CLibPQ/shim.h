// Shim over libpq, PostgreSQL's C client (Debian libpq-dev): PostgresStore's only way to the server.
#ifndef HEXFLEET_CLIBPQ_SHIM_H
#define HEXFLEET_CLIBPQ_SHIM_H
#include <libpq-fe.h>

// PG_DIAG_SQLSTATE is a macro over a character constant; Swift imports it, but as a plain Int32 it reads clearer here.
static inline char *hf_pq_sqlstate(const PGresult *r) { return PQresultErrorField(r, PG_DIAG_SQLSTATE); }

#endif
