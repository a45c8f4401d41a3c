using Azure.Storage.Blobs.Specialized;

namespace QuantBuild.Engine.Cache;

/// <summary>A held blob lease, renewed on a timer until released; a failed renewal lets it lapse (another agent may then take it).</summary>
internal sealed class AzureBlobLease : IRemoteLease
{
    private readonly BlobLeaseClient _lease;
    private readonly Timer _renew;
    private int _released;

    public AzureBlobLease(BlobLeaseClient lease, TimeSpan renewEvery)
    {
        _lease = lease;
        _renew = new Timer(_ => Renew(), null, renewEvery, renewEvery);
    }

    public async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        await _renew.DisposeAsync().ConfigureAwait(false);
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _lease.ReleaseAsync(conditions: null, limit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unreleased, it lapses within the lease time. (The SDK's retries end in an AggregateException, not only
            // RequestFailedException: a server gone mid-run must cost the lease, never the build.)
        }
    }

    private void Renew()
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            _lease.Renew(conditions: null, limit.Token);
        }
        catch (Exception)
        {
            // This runs on a timer thread, where anything thrown ends the process (it did, with the SDK's
            // AggregateException after its retries, when the server stopped). The next tick tries again; if none
            // succeeds the lease lapses, which costs duplicate work, never a wrong result.
        }
    }
}
