using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// The shared cache on Azure Blob Storage (or Azurite). An entry is one block blob (streamed in and out 4 MB at a time), <c>PREFIX/KEY[0..2]/KEY.qbentry</c>:
/// its blocks are staged under names no other writer uses and become visible only when the block list is committed
/// with <c>If-None-Match: *</c>, so a reader never sees half an entry and the first writer's entry is never replaced.
/// Its SHA-256 is blob metadata. A key's lease is a 30-second lease on the empty blob <c>PREFIX/locks/KEY</c>,
/// renewed every 10 seconds while held, so the lease of a killed agent lapses within half a minute.
/// </summary>
public sealed class AzureBlobRemoteCache : IRemoteCache
{
    private const string Suffix = ".qbentry";
    private const string ShaMetadata = "sha256";
    private const int BlockBytes = 4 << 20;
    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(10);

    private readonly BlobContainerClient _container;
    private readonly string _prefix;
    private int _containerChecked;

    /// <summary>Uses <paramref name="container"/> (its client carries the credential) under <paramref name="prefix"/>.</summary>
    public AzureBlobRemoteCache(BlobContainerClient container, string prefix)
    {
        _container = container;
        _prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
    }

    /// <inheritdoc />
    public string Location => $"azure-blob:{_container.Name}/{_prefix}";

    /// <summary>
    /// A client for <paramref name="connection"/>: a connection string (<c>AccountName=…;AccountKey=…</c>,
    /// <c>UseDevelopmentStorage=true</c>) or a SAS URL of the account or of the container itself.
    /// </summary>
    /// <exception cref="ArgumentException">The text is neither, or a container URL names another container.</exception>
    public static BlobContainerClient Connect(string connection, string container, TimeSpan requestTimeout)
    {
        var options = new BlobClientOptions
        {
            Retry = { MaxRetries = 2, Mode = RetryMode.Exponential, Delay = TimeSpan.FromMilliseconds(300), MaxDelay = TimeSpan.FromSeconds(2), NetworkTimeout = requestTimeout },
        };
        if (!Uri.TryCreate(connection, UriKind.Absolute, out Uri? url) || url.Scheme is not ("https" or "http"))
        {
            return new BlobServiceClient(connection, options).GetBlobContainerClient(container);
        }

        // Azurite's URLs put the account in the path (http://127.0.0.1:10000/devstoreaccount1/container).
        string[] segments = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int accountSegments = url.Host is "127.0.0.1" or "localhost" ? 1 : 0;
        if (segments.Length <= accountSegments)
        {
            return new BlobServiceClient(url, options).GetBlobContainerClient(container);
        }

        if (segments[accountSegments] != container)
        {
            throw new ArgumentException($"the SAS URL is for container '{segments[accountSegments]}', but cache.remote.container is '{container}'");
        }

        return new BlobContainerClient(url, options);
    }

    /// <inheritdoc />
    public async Task<RemoteBlob?> DownloadAsync(string key, Stream destination, CancellationToken cancellation)
    {
        Response<BlobDownloadStreamingResult> result;
        try
        {
            result = await Entry(key).DownloadStreamingAsync(new BlobDownloadOptions(), cancellation).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }

        using (result.Value)
        {
            // The SDK's stream resumes a broken read from where it stopped (same ETag), so a long download survives a reset.
            await result.Value.Content.CopyToAsync(destination, BlockBytes, cancellation).ConfigureAwait(false);
            result.Value.Details.Metadata.TryGetValue(ShaMetadata, out string? sha);
            return new RemoteBlob(sha, result.Value.Details.ETag.ToString());
        }
    }

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string key, CancellationToken cancellation) =>
        (await Entry(key).ExistsAsync(cancellation).ConfigureAwait(false)).Value;

    /// <inheritdoc />
    public async Task<bool> UploadAsync(string key, Stream payload, string sha256, CancellationToken cancellation)
    {
        await EnsureContainerAsync(cancellation).ConfigureAwait(false);
        BlockBlobClient blob = Entry(key);
        // Block ids are per writer: two agents staging the same key never mix their blocks.
        string writer = Guid.NewGuid().ToString("N");
        var blocks = new List<string>();
        // One block in memory at a time, whatever the entry's size.
        var buffer = new byte[BlockBytes];
        for (int index = 0; ; index++)
        {
            int read = await payload.ReadAtLeastAsync(buffer, BlockBytes, throwOnEndOfStream: false, cancellation).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            string id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{writer}-{index:D6}"));
            await blob.StageBlockAsync(id, new MemoryStream(buffer, 0, read, writable: false), new BlockBlobStageBlockOptions(), cancellation).ConfigureAwait(false);
            blocks.Add(id);
            if (read < BlockBytes)
            {
                break;
            }
        }

        try
        {
            await blob.CommitBlockListAsync(blocks, new CommitBlockListOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                Metadata = new Dictionary<string, string> { [ShaMetadata] = sha256 },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            }, cancellation).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Another writer committed first.
            return false;
        }
        catch (RequestFailedException e) when (e.Status == 400)
        {
            // InvalidBlockList: another writer's commit discarded our staged blocks; its entry is there and as good.
            if (await ExistsAsync(key, cancellation).ConfigureAwait(false))
            {
                return false;
            }

            throw;
        }
    }

    /// <inheritdoc />
    public async Task<IRemoteLease?> TryLeaseAsync(string key, CancellationToken cancellation)
    {
        await EnsureContainerAsync(cancellation).ConfigureAwait(false);
        BlobClient lockBlob = _container.GetBlobClient($"{_prefix}locks/{key}");
        try
        {
            await lockBlob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellation).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // The lock blob exists already (leased or not): only the lease decides.
        }
        catch (RequestFailedException e) when (e.Status == 403)
        {
            // A read-only credential (pull-request builds) may read entries but not lock: go on without a lease.
            return NoLease.Instance;
        }

        BlobLeaseClient lease = lockBlob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(LeaseTime, conditions: null, cancellation).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 403)
        {
            return NoLease.Instance;
        }

        return new AzureBlobLease(lease, RenewEvery);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RemoteCacheItem> ListAsync([EnumeratorCancellation] CancellationToken cancellation)
    {
        AsyncPageable<BlobItem> blobs;
        try
        {
            blobs = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _prefix }, cancellation);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            yield break;
        }

        await using IAsyncEnumerator<BlobItem> items = blobs.GetAsyncEnumerator(cancellation);
        while (await MoveNext(items).ConfigureAwait(false))
        {
            BlobItem item = items.Current;
            string name = item.Name[_prefix.Length..];
            // PREFIX/ab/abcd….qbentry: two hex digits, a slash, 64 hex digits.
            if (name.Length == 3 + 64 + Suffix.Length && name[2] == '/' && name.EndsWith(Suffix, StringComparison.Ordinal))
            {
                yield return new RemoteCacheItem(name[3..^Suffix.Length], item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue);
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string key, string? ifVersion, CancellationToken cancellation)
    {
        try
        {
            var conditions = ifVersion is null ? null : new BlobRequestConditions { IfMatch = new ETag(ifVersion) };
            return (await Entry(key).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions, cancellation).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false;
        }
    }

    // A missing container is the end of a listing, not an error.
    private static async Task<bool> MoveNext(IAsyncEnumerator<BlobItem> items)
    {
        try
        {
            return await items.MoveNextAsync().ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    private BlockBlobClient Entry(string key) => _container.GetBlockBlobClient($"{_prefix}{key[..2]}/{key}{Suffix}");

    // Once per process: a container-scoped SAS may not create containers (403), and needs not to when it exists.
    private async Task EnsureContainerAsync(CancellationToken cancellation)
    {
        if (Volatile.Read(ref _containerChecked) == 1)
        {
            return;
        }

        try
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellation).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 403)
        {
        }

        Volatile.Write(ref _containerChecked, 1);
    }

    private sealed class NoLease : IRemoteLease
    {
        public static readonly NoLease Instance = new();

        public Task ReleaseAsync() => Task.CompletedTask;
    }
}
