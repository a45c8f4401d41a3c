using System.Collections.Concurrent;
using System.Diagnostics;
using Serilog;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// One build at a time per key: a lock file per key in the local cache (parallel MSBuild projects, several runs on one
/// machine) and, with a remote, the key's lease (agents on other machines). A waiting build looks for the entry while
/// it waits and takes it as soon as the holder stores it. Both kinds of lock die with their holder (the OS drops the
/// file lock of a killed process, a lease not renewed lapses), and a wait is bounded: past it the run warns (QB5103)
/// and quantizes the key itself, as it would without a lock. Lock files are left in place: deleting one a waiter has
/// open would let two builds hold "the same" lock.
/// </summary>
internal sealed class KeyLocks
{
    /// <summary>The lock files' folder inside the cache root (no shard is called that: shards are two hex digits).</summary>
    public const string Folder = "locks";

    private static readonly TimeSpan LocalPoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RemotePoll = TimeSpan.FromSeconds(1);

    private readonly string _folder;
    private readonly RemoteResultCache? _remote;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, Held> _held = new(StringComparer.Ordinal);

    public KeyLocks(string folder, RemoteResultCache? remote, ILogger log)
    {
        _folder = folder;
        _remote = remote;
        _log = log;
    }

    /// <summary>
    /// Takes <paramref name="key"/>'s locks for a build that missed the cache. While another build holds them, waits up
    /// to <paramref name="wait"/>, watching for the entry (<paramref name="appeared"/> locally, the remote's listing
    /// too) and returning it from <paramref name="lookup"/> as soon as it is there.
    /// </summary>
    /// <returns>The entry another build stored meanwhile; null when this build should quantize (holding the locks it could take).</returns>
    public CacheEntry? Claim(string key, string target, TimeSpan wait, Func<bool> appeared, Func<CacheEntry?> lookup)
    {
        // This run already quantizes the key (two targets with the same settings): it must not wait on itself.
        if (_held.ContainsKey(key))
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        FileStream? local = TryLock(key, out bool localBusy);
        bool waited = false;
        while (local is null && localBusy)
        {
            if (clock.Elapsed >= wait)
            {
                Expired(target, "another build on this machine", wait);
                break;
            }

            waited = true;
            Thread.Sleep(LocalPoll);
            if (appeared() && lookup() is { } stored)
            {
                return stored;
            }

            local = TryLock(key, out localBusy);
        }

        // Looked again even without a wait: the holder may have stored and let go between our lookup and our lock.
        if (local is not null && (waited || appeared()) && lookup() is { } storedMeanwhile)
        {
            local.Dispose();
            return storedMeanwhile;
        }

        IRemoteLease? lease = null;
        if (_remote is { IsAvailable: true })
        {
            lease = _remote.TryLease(key, out bool busy);
            bool remoteWaited = false;
            while (lease is null && busy)
            {
                if (clock.Elapsed >= wait)
                {
                    Expired(target, $"another agent (lease in {_remote.Location})", wait);
                    break;
                }

                remoteWaited = true;
                Thread.Sleep(RemotePoll);
                if (_remote.Exists(key) && lookup() is { } uploaded)
                {
                    local?.Dispose();
                    return uploaded;
                }

                lease = _remote.TryLease(key, out busy);
            }

            if (lease is not null && (remoteWaited || _remote.Exists(key)) && lookup() is { } uploadedMeanwhile)
            {
                _ = lease.ReleaseAsync();
                local?.Dispose();
                return uploadedMeanwhile;
            }
        }

        _held[key] = new Held(local, lease);
        return null;
    }

    /// <summary>Releases the local lock of a stored key and hands over its lease, for the upload to release when it ends.</summary>
    public IRemoteLease? Handoff(string key)
    {
        if (!_held.TryRemove(key, out Held? held))
        {
            return null;
        }

        held.Local?.Dispose();
        return held.Lease;
    }

    /// <summary>Releases both locks of a key that will not be stored (a failed gate, an error).</summary>
    public void Release(string key) => _ = Handoff(key)?.ReleaseAsync();

    /// <summary>Releases everything still held (the end of a run, whatever happened in it).</summary>
    public void ReleaseAll()
    {
        foreach (string key in _held.Keys)
        {
            Release(key);
        }
    }

    // busy: another holder has the lock. Null without busy: locking is impossible here (a read-only cache), so go on unlocked.
    private FileStream? TryLock(string key, out bool busy)
    {
        busy = false;
        string path = Path.Combine(_folder, key + ".lock");
        try
        {
            Directory.CreateDirectory(_folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        try
        {
            // FileShare.None is an exclusive lock (flock on Unix), held by this open file and dropped when the process dies.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        catch (IOException)
        {
            busy = File.Exists(path);
            return null;
        }
    }

    private void Expired(string target, string holder, TimeSpan wait) =>
        _log.Warning("warning {Code}: {Target}: {Holder} has held this result's lock for {Seconds:0}s; quantizing it here too. Fix: raise cache.lock_wait_seconds if that build is slow rather than stuck",
            CacheCodes.LockWaitExpired, target, holder, wait.TotalSeconds);

    private sealed record Held(FileStream? Local, IRemoteLease? Lease);
}
