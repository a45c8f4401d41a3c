using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>
/// End to end through <see cref="QuantizePipeline"/> on the Fashion-MNIST sample: passes run before encoding on a
/// copy of the model, and each plugin fault fails its own target with its code while the other targets finish.
/// </summary>
public sealed class PipelinePluginTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private QuantizeConfig Config(string plugins, string targets)
    {
        string yaml = $"""
            model: {TestFiles.Sample("../model.onnx")}
            output: out
            calibration:
              data: {TestFiles.Sample("calibration.npy")}
              samples: 64
            evaluation:
              data: {TestFiles.Sample("eval_images.npy")}
              labels: {TestFiles.Sample("eval_labels.npy")}
              metric: top1
              batch_size: 500
            gate:
              max_drop: 2
            plugins:
            {plugins}
            targets:
            {targets}
            """;
        File.WriteAllText(_temp.P("quantize.yaml"), yaml);
        return QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
    }

    private static string PathEntry(string project) => $"  - path: {Fixtures.Folder(project)}\n    allow_outside: true";

    private static RunResult Run(QuantizeConfig config) =>
        new QuantizePipeline(config).Run(new PipelineOptions { LayerProbeSamples = 8, WriteReports = false });

    [Fact]
    public void Each_plugin_fault_fails_only_its_own_target_with_its_code_and_the_others_finish()
    {
        QuantizeConfig config = Config(
            string.Join("\n", PathEntry("Fixture.PluginA"), PathEntry("Fixture.PluginB"), PathEntry("Fixture.NativePlugin"),
                PathEntry("Fixture.FaultyPlugin"), PathEntry("Fixture.FuturePlugin")),
            """
              isolated:
                device: cpu-x64-vnni
                recipe:
                  - pass: fixture-a
                    label: x
                  - fixture-b
                  - fixture-native
              throws:
                device: cpu-x64-vnni
                recipe: [fixture-throws]
              hangs:
                device: cpu-x64-vnni
                recipe:
                  - pass: fixture-hangs
                    timeout_seconds: 0.5
              future:
                device: cpu-x64-vnni
                recipe: [fixture-future]
              plain:
                device: cpu-x64-vnni
            """);

        RunResult run = Run(config);
        var byName = run.Targets.ToDictionary(t => t.Name);

        Assert.Equal(TargetStatus.Passed, byName["isolated"].Status);
        Assert.Equal(TargetStatus.Passed, byName["plain"].Status);
        Assert.Contains(byName["isolated"].Stages, s => s.Stage == "passes");
        Assert.DoesNotContain(byName["plain"].Stages, s => s.Stage == "passes");

        AssertFailed(byName["throws"], "QB2020", "pass 'fixture-throws' (plugin 'Fixture.FaultyPlugin'", "the fixture pass fails on purpose");
        AssertFailed(byName["hangs"], "QB2021", "pass 'fixture-hangs' (plugin 'Fixture.FaultyPlugin') did not finish within 0.5 s");
        AssertFailed(byName["future"], "QB2003", "pass 'fixture-future' for target 'future' is unavailable: plugin 'Fixture.FuturePlugin'");

        // The passes changed the isolated target's copy only; the shared fp32 model reached 'plain' untouched.
        OnnxModel isolated = OnnxModelLoader.Load(byName["isolated"].OutputPath!);
        Assert.Equal("v1:x", Meta(isolated, "fixture-a"));
        Assert.Equal("v2:bb", Meta(isolated, "fixture-b"));
        Assert.Equal("3610a686", Meta(isolated, "fixture-native"));
        Assert.DoesNotContain(OnnxModelLoader.Load(byName["plain"].OutputPath!).MetadataProps, m => m.Key.StartsWith("fixture-", StringComparison.Ordinal));
    }

    [Fact]
    public void Pass_names_and_options_are_checked_at_their_yaml_line_once_the_plugins_are_known()
    {
        File.WriteAllText(_temp.P("quantize.yaml"), $"""
            model: {TestFiles.Sample("../model.onnx")}
            calibration:
              data: {TestFiles.Sample("calibration.npy")}
            plugins:
            {PathEntry("Fixture.FaultyPlugin")}
            {PathEntry("Fixture.PluginA")}
            targets:
              x64:
                device: cpu-x64-vnni
                recipe:
                  - fixture-aa
                  - pass: fixture-arm-only
              arm:
                device: cpu-arm64
                recipe:
                  - pass: fixture-arm-only
                    strength: 50
            """);
        QuantizeConfig unchecked_ = QuantizeConfigLoader.Load(_temp.P("quantize.yaml"));
        using PluginHost host = PluginHost.Load(unchecked_, Fixtures.NoFirstParty);

        var e = Assert.Throws<ConfigValidationException>(() =>
            QuantizeConfigLoader.Load(_temp.P("quantize.yaml"), new ConfigValidationOptions { KnownPasses = host.KnownPasses }));

        Assert.Collection(e.Errors,
            unknown =>
            {
                Assert.Equal(("QB1009", 13), (unknown.Code, unknown.Line));
                Assert.Contains("Did you mean 'fixture-a'?", unknown.Message);
            },
            device => Assert.Equal(("QB1010", 14), (device.Code, device.Line)),
            range => Assert.Equal(("QB1011", 19), (range.Code, range.Line)));
    }

    private static void AssertFailed(TargetResult target, string code, params string[] fragments)
    {
        Assert.Equal(TargetStatus.Error, target.Status);
        Assert.Equal(code, target.ErrorCode);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, target.Error);
        }

        Assert.Null(target.OutputPath);
        Assert.Null(target.RejectedPath);
        Assert.Null(target.ManifestPath);
    }

    private static string Meta(OnnxModel model, string key) => model.MetadataProps.Single(m => m.Key == key).Value;
}
