namespace QuantBuild.Engine.Cache;

/// <summary>The QB51xx warnings of the shared cache: each one means the run went on without the remote, never that it failed.</summary>
public static class CacheCodes
{
    /// <summary>The remote store could not be reached or answered with an error; the run goes on with the local cache.</summary>
    public const string RemoteUnavailable = "QB5100";

    /// <summary>A remote entry failed its SHA-256 check (or cannot be read as an entry); it is ignored and the target quantized here.</summary>
    public const string RemoteEntryCorrupt = "QB5101";

    /// <summary>A passed result could not be uploaded (or the upload had not finished when the run had to end).</summary>
    public const string UploadFailed = "QB5102";

    /// <summary>Another build held the key longer than <c>cache.lock_wait_seconds</c>; this run quantizes it too.</summary>
    public const string LockWaitExpired = "QB5103";

    /// <summary><c>cache.remote</c> is configured but its connection variable is unset or unusable.</summary>
    public const string NoCredentials = "QB5104";
}
