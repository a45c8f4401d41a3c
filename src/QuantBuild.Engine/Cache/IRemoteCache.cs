namespace QuantBuild.Engine.Cache;

/// <summary>
/// A shared store of cache entries (Azure Blob Storage; S3 could be another), addressed by the same key as the local
/// folder. What every backend must guarantee, and what the contract tests check against a real server:
/// <list type="bullet">
/// <item>an upload is atomic and conditional: a reader sees the whole entry or none, and an existing entry is never replaced;</item>
/// <item>a download returns the SHA-256 the writer recorded, which the caller checks (it never trusts the bytes blindly);</item>
/// <item>a lease on a key is held by one caller at a time and lapses by itself when its holder dies.</item>
/// </list>
/// Failures are thrown; <see cref="RemoteResultCache"/> turns them into warnings, never into a failed build.
/// </summary>
public interface IRemoteCache
{
    /// <summary>Where the entries live, for messages (never a credential): <c>azure-blob:container/prefix</c>.</summary>
    string Location { get; }

    /// <summary>Writes the object stored under <paramref name="key"/> to <paramref name="destination"/>, streamed.</summary>
    /// <returns>Its recorded digest and version; null (nothing written) when there is none.</returns>
    Task<RemoteBlob?> DownloadAsync(string key, Stream destination, CancellationToken cancellation);

    /// <summary>True when an entry is stored under <paramref name="key"/>.</summary>
    Task<bool> ExistsAsync(string key, CancellationToken cancellation);

    /// <summary>Stores what <paramref name="payload"/> reads (streamed, in blocks) under <paramref name="key"/> unless an entry is already there.</summary>
    /// <returns>True when this call created the entry; false when one existed (another writer's, equally good).</returns>
    Task<bool> UploadAsync(string key, Stream payload, string sha256, CancellationToken cancellation);

    /// <summary>Takes the key's lease, renewed until released; null when another holder has it.</summary>
    Task<IRemoteLease?> TryLeaseAsync(string key, CancellationToken cancellation);

    /// <summary>Every stored entry.</summary>
    IAsyncEnumerable<RemoteCacheItem> ListAsync(CancellationToken cancellation);

    /// <summary>Deletes the entry under <paramref name="key"/>; with <paramref name="ifVersion"/>, only that version of it.</summary>
    /// <returns>False when there was nothing (or another version) to delete.</returns>
    Task<bool> DeleteAsync(string key, string? ifVersion, CancellationToken cancellation);
}
