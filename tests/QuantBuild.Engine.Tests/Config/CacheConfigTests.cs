using System.Text.Json.Nodes;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Engine.Tests.Config;

/// <summary><c>cache</c> and <c>cache.remote</c>: bound with defaults, validated at their line, and never holding a secret.</summary>
public sealed class CacheConfigTests
{
    private const string Head = """
        model: model.onnx
        calibration: { data: data/calibration.npy }
        targets:
          x64: { device: cpu-x64-vnni }

        """;

    [Fact]
    public void Remote_binds_with_its_defaults_and_the_prefix_as_a_folder()
    {
        using var folder = new ConfigFolder();
        File.WriteAllText(folder.YamlPath, Head + """
            cache:
              lock_wait_seconds: 120
              remote: { kind: azure-blob, container: quantbuild-cache, prefix: myapp }
            """);

        CacheConfig cache = QuantizeConfigLoader.Load(folder.YamlPath).Cache;

        Assert.Equal(120, cache.LockWaitSeconds);
        Assert.Equal("azure-blob", cache.Remote!.Kind);
        Assert.Equal("quantbuild-cache", cache.Remote.Container);
        Assert.Equal("myapp/", cache.Remote.Prefix);
        Assert.Equal("QUANTBUILD_CACHE_CONNECTION", cache.Remote.ConnectionVariable);
        Assert.Equal(30, cache.Remote.TimeoutSeconds);
        Assert.Equal(7, cache.Remote.Location.Line);
    }

    [Fact]
    public void Without_a_cache_section_there_is_no_remote_and_the_default_wait()
    {
        using var folder = new ConfigFolder();
        File.WriteAllText(folder.YamlPath, Head);

        CacheConfig cache = QuantizeConfigLoader.Load(folder.YamlPath).Cache;

        Assert.Null(cache.Remote);
        Assert.Equal(CacheConfig.DefaultLockWaitSeconds, cache.LockWaitSeconds);
    }

    [Theory]
    [InlineData("remote: { kind: azure-blob, container: c1, connection_string: 'x' }", 6)]
    [InlineData("remote: { kind: azure-blob, container: c1, sas: 'x' }", 6)]
    [InlineData("remote: { kind: azure-blob, container: c1, prefix: 'p?sv=2024&sig=abc' }", 6)]
    [InlineData("remote: { kind: azure-blob, container: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k' }", 6)]
    public void A_credential_in_the_yaml_is_refused_at_its_line(string remote, int line)
    {
        using var folder = new ConfigFolder();
        File.WriteAllText(folder.YamlPath, Head + "cache:\n  " + remote + "\n");

        var e = Assert.ThrowsAny<QuantBuildException>(() => QuantizeConfigLoader.Load(folder.YamlPath));

        string text = Lines(e);
        Assert.Contains($"quantize.yaml({line},", text, StringComparison.Ordinal);
        Assert.Contains("error QB1040", text, StringComparison.Ordinal);
        Assert.Contains("QUANTBUILD_CACHE_CONNECTION", text, StringComparison.Ordinal);
        Assert.DoesNotContain("QB1003", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("remote: { kind: s3, container: c1x }", "QB1013")]
    [InlineData("remote: { kind: azure-blob, container: Bad_Name }", "QB1011")]
    [InlineData("remote: { kind: azure-blob, container: c1x, prefix: ../up }", "QB1011")]
    [InlineData("remote: { kind: azure-blob }", "QB1005")]
    [InlineData("remote: { kind: azure-blob, container: c1x, timeout_seconds: 0 }", "QB1011")]
    [InlineData("remote: { kind: azure-blob, container: c1x, connection_env: 'not a name' }", "QB1011")]
    [InlineData("lock_wait_seconds: -1", "QB1011")]
    [InlineData("remot: { kind: azure-blob, container: c1x }", "QB1003")]
    public void Bad_cache_settings_are_config_errors_at_their_line(string body, string code)
    {
        using var folder = new ConfigFolder();
        File.WriteAllText(folder.YamlPath, Head + "cache:\n  " + body + "\n");

        var e = Assert.ThrowsAny<QuantBuildException>(() => QuantizeConfigLoader.Load(folder.YamlPath));

        Assert.Contains($"quantize.yaml(6,", Lines(e), StringComparison.Ordinal);
        Assert.Contains($"error {code}", Lines(e), StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_and_loader_accept_the_same_cache_keys()
    {
        JsonNode schema = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "quantize.schema.json")))!;
        JsonNode cache = schema["properties"]!["cache"]!;

        Assert.Equal(QuantizeConfigKeys.Cache.Order(StringComparer.Ordinal), cache["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(QuantizeConfigKeys.RemoteCache.Order(StringComparer.Ordinal), cache["properties"]!["remote"]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    private static string Lines(QuantBuildException e) =>
        e is ConfigValidationException many ? string.Join("\n", many.Errors.Select(x => x.ToDiagnosticString())) : e.ToDiagnosticString();
}
