/// Durable fences: written off the caller's thread like every `Store` write (the completion runs on the writer
/// thread after the commit), read synchronously at start.
public protocol FenceStore: AnyObject, Sendable {
    /// Inserts or replaces a fence.
    func putFence(_ fence: StoredFence, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void)
    /// Deletes a fence; succeeds whether or not it existed.
    func deleteFence(id: String, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void)
    /// Every stored fence, by id.
    func fences() throws(StorageError) -> [StoredFence]
}
