using QuantBuild.Engine.Cache;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Engine.Tests.Cache;

/// <summary>A plugin changed anywhere in its code folder (not only its main assembly) gets a new cache key.</summary>
public sealed class PluginCacheKeyTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "qb-plugin-key-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private (QuantizeConfig Config, string PluginFolder) Workspace()
    {
        Directory.CreateDirectory(_root);
        string plugin = Fixtures.CopyOf("PercentileClipPlugin", Path.Combine(_root, "plugins"));
        string sample = Path.Combine(RepositoryRoot.Path, "samples", "fashion-mnist");
        string yaml = Path.Combine(_root, "quantize.yaml");
        File.WriteAllText(yaml,
            $"model: {sample}/model.onnx\ncalibration:\n  data: {sample}/data/calibration.npy\n" +
            "plugins:\n  - path: plugins/PercentileClipPlugin\n" +
            "targets:\n  x64:\n    device: cpu-x64-vnni\n    recipe:\n      - pass: percentile-clip\n");
        return (QuantizeConfigLoader.Load(yaml), plugin);
    }

    private static string Key(QuantizeConfig config, PluginHost host) =>
        TargetCache.Open(new ResultCache(Path.Combine(Path.GetTempPath(), "unused")), config, host).KeyFor(config.Targets[0])!;

    [Fact]
    public void Changing_a_dependency_manifest_or_a_native_library_changes_the_key_and_unrelated_files_do_not()
    {
        (QuantizeConfig config, string folder) = Workspace();
        using PluginHost host = Fixtures.Host([.. config.Plugins]);
        Assert.Empty(host.Failures);
        string before = Key(config, host);

        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not code");
        Assert.Equal(before, Key(config, host));

        string deps = Directory.GetFiles(folder, "*.deps.json").Single();
        File.AppendAllText(deps, " ");
        string afterDeps = Key(config, host);
        Assert.NotEqual(before, afterDeps);

        string native = Path.Combine(folder, "runtimes", "linux-x64", "native", "libclip.so");
        Directory.CreateDirectory(Path.GetDirectoryName(native)!);
        File.WriteAllBytes(native, [1, 2, 3]);
        Assert.NotEqual(afterDeps, Key(config, host));
        Assert.Contains(native, PluginFiles.Of(host.Plugins.Single().Path));
    }
}
