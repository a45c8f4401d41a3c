using QuantBuild.Engine.Config;
using Serilog;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// Builds the run's <see cref="RemoteResultCache"/> from <c>cache.remote</c> and the credential in the environment.
/// A remote that cannot be used (no credential on this machine, an unreadable one) is a QB5104 warning and a local-only
/// run: a developer without the CI secret still builds.
/// </summary>
public static class RemoteCacheFactory
{
    /// <summary>The remote for <paramref name="config"/>, or null when it has none or it cannot be used here.</summary>
    /// <param name="config">The validated config.</param>
    /// <param name="log">Where the warning goes.</param>
    /// <param name="environment">Reads an environment variable (tests pass their own).</param>
    public static RemoteResultCache? Open(QuantizeConfig config, ILogger log, Func<string, string?>? environment = null)
    {
        if (config.Cache.Remote is not { } remote)
        {
            return null;
        }

        IRemoteCache? store = Create(remote, environment ?? Environment.GetEnvironmentVariable, out string? problem);
        if (store is null)
        {
            log.Warning("{File}({Line},{Column}): warning {Code}: {Problem}; this run uses the local cache only. Fix: set {Variable} to the storage account's connection string or a SAS URL (docs/cache.md), or ignore this on a machine that should not share results",
                remote.Location.File, remote.Location.Line, remote.Location.Column, CacheCodes.NoCredentials, problem!, remote.ConnectionVariable);
            return null;
        }

        return new RemoteResultCache(store, log, TimeSpan.FromSeconds(remote.TimeoutSeconds), remote.Location);
    }

    /// <summary>The store <paramref name="remote"/> names, or null with <paramref name="problem"/> saying why not.</summary>
    public static IRemoteCache? Create(RemoteCacheConfig remote, Func<string, string?> environment, out string? problem)
    {
        string? connection = environment(remote.ConnectionVariable);
        if (string.IsNullOrWhiteSpace(connection))
        {
            problem = $"cache.remote is configured but the environment variable {remote.ConnectionVariable} is not set";
            return null;
        }

        try
        {
            problem = null;
            return new AzureBlobRemoteCache(AzureBlobRemoteCache.Connect(connection.Trim(), remote.Container, TimeSpan.FromSeconds(remote.TimeoutSeconds)), remote.Prefix);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            // The message of a malformed connection string may quote it: say what is wrong without repeating the secret.
            problem = $"{remote.ConnectionVariable} is neither a storage connection string nor a SAS URL ({e.GetType().Name})";
            return null;
        }
    }
}
