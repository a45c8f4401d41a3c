using System.Text.RegularExpressions;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds <c>cache</c> and <c>cache.remote</c>. A credential written into the yaml (a connection-string or SAS key, or a
/// value that looks like one) is refused with QB1040 rather than used: the yaml is committed and shared, the secret
/// belongs in the environment variable <c>connection_env</c> names.
/// </summary>
internal sealed partial class CacheBinder(ConfigReader r)
{
    /// <summary>Keys people reach for when they paste a credential; each is refused by name, not as an unknown key.</summary>
    private static readonly string[] SecretKeys = ["connection_string", "connection", "sas", "sas_token", "sas_url", "account_key", "key", "secret", "password", "token"];

    private static readonly string[] Kinds = ["azure-blob"];

    public CacheConfig? Bind(ConfigNode node, SourceLocation keyAt)
    {
        RefuseSecretValues(node);
        if (r.AsMapping(node, "cache") is not { } map)
        {
            return null;
        }

        CheckKeys(map, QuantizeConfigKeys.Cache, "cache");
        double wait = r.Number(map, "lock_wait_seconds", "cache.lock_wait_seconds") ?? CacheConfig.DefaultLockWaitSeconds;
        if (wait < 0)
        {
            r.Range(map.Find("lock_wait_seconds")?.Value, keyAt, "cache.lock_wait_seconds", "0 or more (0: never wait for another build)", ConfigReader.Format(wait));
        }

        RemoteCacheConfig? remote = ConfigReader.Value(map, "remote") is { } remoteNode ? Remote(remoteNode, map.Find("remote")!.Key.Location) : null;
        return new CacheConfig { LockWaitSeconds = wait, Remote = remote, Location = keyAt };
    }

    private RemoteCacheConfig? Remote(ConfigNode node, SourceLocation keyAt)
    {
        if (r.AsMapping(node, "cache.remote") is not { } map)
        {
            return null;
        }

        CheckKeys(map, QuantizeConfigKeys.RemoteCache, "cache.remote");
        string? kind = r.String(map, "kind", "cache.remote.kind");
        if (kind is null)
        {
            r.Missing("kind", "cache.remote", keyAt, "add 'kind: azure-blob'");
        }
        else if (!Kinds.Contains(kind))
        {
            r.Error(ConfigErrorCodes.UnknownValue, $"unknown remote cache kind '{kind}'.{NameSuggester.DidYouMean(kind, Kinds)}",
                $"use one of: {string.Join(", ", Kinds)}", ConfigReader.At(map, "kind", keyAt));
        }

        string? container = r.String(map, "container", "cache.remote.container");
        if (container is null)
        {
            r.Missing("container", "cache.remote", keyAt, "add 'container: quantbuild-cache' (an existing blob container or one the credential may create)");
        }
        else if (!ContainerName().IsMatch(container) || container.Contains("--", StringComparison.Ordinal))
        {
            r.Error(ConfigErrorCodes.OutOfRange, $"'cache.remote.container' is '{container}', not a blob container name",
                "use 3 to 63 lower-case letters, digits and single hyphens, starting with a letter or digit", ConfigReader.At(map, "container", keyAt));
        }

        string prefix = r.String(map, "prefix", "cache.remote.prefix") ?? string.Empty;
        if (prefix.Length > 0 && (!PrefixText().IsMatch(prefix) || prefix.StartsWith('/') || prefix.Split('/').Contains("..")))
        {
            r.Error(ConfigErrorCodes.OutOfRange, $"'cache.remote.prefix' is '{prefix}', not a folder inside the container",
                "use letters, digits and - _ . / without a leading '/' or '..', for example 'prefix: myapp/'", ConfigReader.At(map, "prefix", keyAt));
        }

        string variable = r.String(map, "connection_env", "cache.remote.connection_env") ?? RemoteCacheConfig.DefaultConnectionVariable;
        if (!VariableName().IsMatch(variable))
        {
            r.Error(ConfigErrorCodes.OutOfRange, $"'cache.remote.connection_env' is '{variable}', not an environment variable name",
                $"name the variable that holds the connection string, for example 'connection_env: {RemoteCacheConfig.DefaultConnectionVariable}'",
                ConfigReader.At(map, "connection_env", keyAt));
        }

        double timeout = r.Number(map, "timeout_seconds", "cache.remote.timeout_seconds") ?? 30;
        if (timeout is <= 0 or > 600)
        {
            r.Range(map.Find("timeout_seconds")?.Value, keyAt, "cache.remote.timeout_seconds", "above 0 and at most 600", ConfigReader.Format(timeout));
        }

        return kind is null || container is null ? null : new RemoteCacheConfig
        {
            Kind = kind,
            Container = container,
            Prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/",
            ConnectionVariable = variable,
            TimeoutSeconds = timeout,
            Location = keyAt,
        };
    }

    // A secret key is reported as what it is (QB1040), not as an unknown key with a "did you mean".
    private void CheckKeys(ConfigMapping map, IReadOnlyList<string> allowed, string section)
    {
        foreach (ConfigEntry entry in map.Entries.Where(e => SecretKeys.Contains(e.Name.ToLowerInvariant())))
        {
            r.Error(ConfigErrorCodes.SecretInConfig, $"'{section}.{entry.Name}' would put a credential in quantize.yaml, which is committed and shared",
                $"remove it and set the environment variable {RemoteCacheConfig.DefaultConnectionVariable} (or the one 'connection_env' names) to the connection string or SAS URL",
                entry.Key.Location);
        }

        var others = new ConfigMapping(map.Entries.Where(e => !SecretKeys.Contains(e.Name.ToLowerInvariant())).ToList(), map.Location);
        r.CheckKeys(others, allowed, section);
    }

    private void RefuseSecretValues(ConfigNode node)
    {
        switch (node)
        {
            case ConfigMapping mapping:
                foreach (ConfigEntry entry in mapping.Entries)
                {
                    RefuseSecretValues(entry.Value);
                }

                break;
            case ConfigSequence sequence:
                foreach (ConfigNode item in sequence.Items)
                {
                    RefuseSecretValues(item);
                }

                break;
            case ConfigScalar scalar when SecretValue().IsMatch(scalar.Value):
                r.Error(ConfigErrorCodes.SecretInConfig, "a value under 'cache' holds a credential (an account key or a SAS signature), and quantize.yaml is committed and shared",
                    $"remove it and set the environment variable {RemoteCacheConfig.DefaultConnectionVariable} (or the one 'connection_env' names) to the connection string or SAS URL",
                    scalar.Location);
                break;
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{2,62}$")]
    private static partial Regex ContainerName();

    [GeneratedRegex(@"^[A-Za-z0-9._/-]+$")]
    private static partial Regex PrefixText();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();

    [GeneratedRegex(@"AccountKey=|SharedAccessSignature=|SharedAccessKey=|[?&]sig=|DefaultEndpointsProtocol=|UseDevelopmentStorage=", RegexOptions.IgnoreCase)]
    private static partial Regex SecretValue();
}
