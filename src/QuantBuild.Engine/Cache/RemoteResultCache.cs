using QuantBuild.Engine.Config;
using Serilog;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// The run's use of an <see cref="IRemoteCache"/>, on the rule that the remote can only ever save work: every call is
/// bounded in time; the first failure is one QB5100 warning and the remote is left alone for the rest of the run; a
/// downloaded entry is streamed into an entry folder and used only after every file's SHA-256 checks (else QB5101, and the damaged object is deleted so a good one
/// can take its place); uploads run behind the build and <see cref="Complete"/> waits for them, logging any that failed.
/// </summary>
public sealed class RemoteResultCache
{
    private readonly IRemoteCache _remote;
    private readonly ILogger _log;
    private readonly TimeSpan _callLimit;
    private readonly string _origin;
    private readonly List<(string Target, Task<bool> Upload)> _uploads = new();
    private readonly object _gate = new();
    private string? _failure;

    /// <summary>Uses <paramref name="remote"/>; <paramref name="requestTimeout"/> bounds one request (the backend retries twice).</summary>
    /// <param name="remote">The store.</param>
    /// <param name="log">Where warnings go.</param>
    /// <param name="requestTimeout">One request's limit; a call (with its retries) may take about three times that.</param>
    /// <param name="configuredAt">Where the yaml configured it, so warnings point there; null when it was not a yaml.</param>
    public RemoteResultCache(IRemoteCache remote, ILogger log, TimeSpan requestTimeout, SourceLocation? configuredAt = null)
    {
        _remote = remote;
        _log = log;
        _callLimit = requestTimeout * 3 + TimeSpan.FromSeconds(5);
        _origin = configuredAt is { } at ? $"{at.File}({at.Line},{at.Column}): " : string.Empty;
    }

    /// <summary>The store.</summary>
    public IRemoteCache Store => _remote;

    /// <summary>Where the entries live, for messages.</summary>
    public string Location => _remote.Location;

    /// <summary>False once a call failed: the rest of the run does not wait on a store that is down.</summary>
    public bool IsAvailable => _failure is null;

    /// <summary>Why the remote is not used any more, or null.</summary>
    public string? Failure => _failure;

    /// <summary>
    /// Downloads the entry under <paramref name="key"/> into <paramref name="folder"/> (created; the caller renames it
    /// into the local cache or deletes it), streamed, each file checked against entry.json as it arrives.
    /// </summary>
    /// <returns>The verified entry in <paramref name="folder"/>, or null (none, damaged, or the remote is down).</returns>
    public CacheEntry? TryGet(string key, string target, string folder)
    {
        if (_failure is not null)
        {
            return null;
        }

        RemoteBlob? blob;
        CacheEntry? entry;
        string? problem;
        using (CachePayload.Sink sink = CachePayload.Unpack(key, folder))
        {
            if (Download(key, sink) is not { } downloaded)
            {
                return null;
            }

            blob = downloaded;
            entry = sink.Finish(blob.Sha256);
            problem = sink.Problem;
        }

        if (entry is not null)
        {
            return entry;
        }

        Warn(CacheCodes.RemoteEntryCorrupt, $"{target}: the shared cache's entry {key[..12]}… in {Location} is damaged ({problem}); it is ignored and the target is quantized here",
            "nothing: the damaged object was deleted and this run uploads a good one; if it recurs, check what else writes to that container");
        Call("delete of the damaged entry", ct => _remote.DeleteAsync(key, blob.Version, ct), false);
        return null;
    }

    /// <summary>True when an entry is stored under <paramref name="key"/> (false when the remote is down).</summary>
    public bool Exists(string key) => Call("existence check", ct => _remote.ExistsAsync(key, ct), false);

    /// <summary>Tries to take <paramref name="key"/>'s lease.</summary>
    /// <returns>The lease; or null with <paramref name="busy"/> true when another agent holds it, false when the remote is down.</returns>
    public IRemoteLease? TryLease(string key, out bool busy)
    {
        var result = Call<(IRemoteLease? Lease, bool Busy)>("lease", async ct =>
        {
            IRemoteLease? lease = await _remote.TryLeaseAsync(key, ct).ConfigureAwait(false);
            return (lease, lease is null);
        }, (null, false));
        busy = result.Busy;
        return result.Lease;
    }

    /// <summary>Starts uploading a passed target's entry without waiting; the lease, if any, is released when it ends.</summary>
    public void UploadBehind(CacheEntry entry, string target, IRemoteLease? lease)
    {
        if (!IsAvailable)
        {
            Warn(CacheCodes.UploadFailed, $"{target}: its result was not uploaded to {Location}, which failed earlier in this run ({_failure})",
                "the result is in the local cache: run `quantbuild cache push` once the remote is reachable");
            _ = lease?.ReleaseAsync();
            return;
        }

        Task<bool> upload = Task.Run(async () =>
        {
            try
            {
                // A call per 4 MB block, each bounded, plus the commit; the files are read a block at a time.
                using var limit = new CancellationTokenSource(_callLimit * (2 + CachePayload.Length(entry) / (4 << 20)));
                await using Stream payload = CachePayload.Open(entry);
                bool created = await _remote.UploadAsync(entry.Key, payload, CachePayload.Sha256(entry), limit.Token).ConfigureAwait(false);
                _log.Information("{Target}: {What} {Location}", target, created ? "result uploaded to" : "result already in", Location);
                return true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Warn(CacheCodes.UploadFailed, $"{target}: uploading its result to {Location} failed: {FirstLine(e)}",
                    "the result is in the local cache: run `quantbuild cache push` once the remote is reachable");
                return false;
            }
            finally
            {
                if (lease is not null)
                {
                    await lease.ReleaseAsync().ConfigureAwait(false);
                }
            }
        });
        lock (_gate)
        {
            _uploads.Add((target, upload));
        }
    }

    /// <summary>Uploads an entry now (for <c>quantbuild cache push</c>); throws what the store throws.</summary>
    /// <returns>True when it was created, false when the store already had it.</returns>
    public async Task<bool> UploadAsync(CacheEntry entry, CancellationToken cancellation)
    {
        await using Stream payload = CachePayload.Open(entry);
        return await _remote.UploadAsync(entry.Key, payload, CachePayload.Sha256(entry), cancellation).ConfigureAwait(false);
    }

    /// <summary>Waits up to <paramref name="wait"/> for the uploads under way; each that failed or did not finish is a QB5102 warning.</summary>
    /// <returns>How many failed or did not finish.</returns>
    public int Complete(TimeSpan wait)
    {
        List<(string Target, Task<bool> Upload)> uploads;
        lock (_gate)
        {
            uploads = _uploads.ToList();
            _uploads.Clear();
        }

        if (uploads.Count == 0)
        {
            return 0;
        }

        _log.Information("Waiting for {Count} upload(s) to {Location}", uploads.Count, Location);
        Task.WaitAll(uploads.Select(u => (Task)u.Upload).ToArray(), wait);
        int failed = uploads.Count(u => u.Upload.IsCompletedSuccessfully && !u.Upload.Result);
        List<string> unfinished = uploads.Where(u => !u.Upload.IsCompleted).Select(u => u.Target).ToList();
        if (unfinished.Count > 0)
        {
            Warn(CacheCodes.UploadFailed, $"the upload of {string.Join(", ", unfinished)} to {Location} had not finished after {wait.TotalSeconds:0}s and was abandoned",
                "the results are in the local cache: run `quantbuild cache push` to upload them");
        }

        return failed + unfinished.Count;
    }

    private T Call<T>(string what, Func<CancellationToken, Task<T>> call, T whenDown)
    {
        if (_failure is not null)
        {
            return whenDown;
        }

        try
        {
            using var limit = new CancellationTokenSource(_callLimit);
            // WaitAsync too: a call that ignores its token still cannot hold the build past the limit.
            return Task.Run(() => call(limit.Token).WaitAsync(_callLimit + TimeSpan.FromSeconds(1))).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fail(what, e);
            return whenDown;
        }
    }

    // A download may take as long as it keeps moving: it is given up after a call's limit without a byte, not after a fixed time.
    private RemoteBlob? Download(string key, Stream destination)
    {
        try
        {
            using var idle = new CancellationTokenSource(_callLimit);
            var watched = new Progress(destination, idle, _callLimit);
            return Task.Run(() => _remote.DownloadAsync(key, watched, idle.Token)).WaitAsync(idle.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fail("download", e);
            return null;
        }
    }

    private void Fail(string what, Exception e)
    {
        string reason = e is OperationCanceledException or TimeoutException ? $"{what}: no answer within {_callLimit.TotalSeconds:0}s" : $"{what}: {FirstLine(e)}";
        lock (_gate)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = reason;
        }

        Warn(CacheCodes.RemoteUnavailable, $"the shared cache {Location} failed ({reason}); this run goes on with the local cache only",
            "check the network and the credential in the connection variable; the build never needs the remote to succeed");
    }

    private void Warn(string code, string message, string fix) =>
        _log.Warning("{Origin}warning {Code}: {Message}. Fix: {Fix}", _origin, code, message, fix);

    private static string FirstLine(Exception e)
    {
        string text = (e as AggregateException)?.InnerException?.Message ?? e.Message;
        int newline = text.IndexOfAny(['\r', '\n']);
        return (newline < 0 ? text : text[..newline]).Trim();
    }

    // Passes writes through and pushes the idle deadline back on each.
    private sealed class Progress(Stream inner, CancellationTokenSource idle, TimeSpan limit) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            idle.CancelAfter(limit);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
