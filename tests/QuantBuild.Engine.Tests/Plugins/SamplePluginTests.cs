using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>samples/PercentileClipPlugin, a third-party plugin, through the real pipeline on the Fashion-MNIST sample.</summary>
public sealed class SamplePluginTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_sample_plugins_weights_are_what_the_encoder_wrote_and_the_model_passes_its_gate()
    {
        string sample = Path.Combine(TestFiles.RepoRoot, "samples", "PercentileClipPlugin", "quantize.yaml");
        // The sample's own yaml, with the output redirected to a temp folder.
        QuantizeConfig config = QuantizeConfigLoader.Load(sample);
        using PluginHost host = PluginHost.Load(config, Fixtures.NoFirstParty);
        Assert.Empty(host.Failures);
        config = QuantizeConfigLoader.Load(sample, new ConfigValidationOptions { KnownPasses = host.KnownPasses });
        TargetConfig target = config.Targets.Single(t => t.Name == "x64-clipped");

        RunResult run = new QuantizePipeline(config, plugins: host).Run(new PipelineOptions
        {
            Targets = ["x64-clipped"], OutputDirectory = _temp.Path, LayerProbeSamples = 8, WriteReports = false,
        });
        TargetResult result = Assert.Single(run.Targets);
        Assert.True(result.Status == TargetStatus.Passed, result.Error ?? result.GateMessage);

        // What the pass chose, recomputed through the same host on the same model: passes are deterministic.
        OnnxModel fp32 = OnnxModelLoader.Load(config.ModelPath);
        using var calibration = QuantBuild.Engine.Data.DataSources.Open(config.Calibration.Data,
            QuantBuild.Engine.Data.Batcher.ModelInputs(fp32).Select(i => i.Name).ToList());
        PassRunResult chosen = PassRunner.Run(host, target, fp32, new PassEnvironment { Calibration = calibration });
        Assert.NotEmpty(chosen.WeightEncodings);

        OnnxModel written = OnnxModelLoader.Load(result.OutputPath!);
        var initializers = written.Graph.Initializers.ToDictionary(t => t.Name!);
        bool anyClipped = false;
        foreach ((string weight, WeightEncoding e) in chosen.WeightEncodings)
        {
            Assert.Equal("percentile-clip", e.Origin);
            sbyte[] codes = MemoryMarshal.Cast<byte, sbyte>(initializers[weight + "_quantized"].Data.Span).ToArray();
            Assert.Equal(e.Codes!, codes.Select(c => (int)c));
            float[] scales = MemoryMarshal.Cast<byte, float>(initializers[weight + "_scale"].Data.Span).ToArray();
            Assert.Equal(e.Scales, scales);

            TensorValue fp32Weight = fp32.Graph.Initializers.Single(t => t.Name == weight);
            float[] absMax = ChannelAbsMax(fp32Weight.AsReadOnlySpan<float>(), fp32Weight.Dims, e.Axis!.Value);
            anyClipped |= absMax.Select((m, c) => e.Scales[c] < m / 127f * 0.999f).Any(clipped => clipped);
        }

        Assert.True(anyClipped, "the search should clip at least one channel below its absolute maximum");
    }

    private static float[] ChannelAbsMax(ReadOnlySpan<float> w, long[] dims, int axis)
    {
        long inner = 1;
        for (int d = axis + 1; d < dims.Length; d++)
        {
            inner *= dims[d];
        }

        var max = new float[dims[axis]];
        for (int i = 0; i < w.Length; i++)
        {
            long c = i / inner % dims[axis];
            max[c] = Math.Max(max[c], Math.Abs(w[i]));
        }

        return max;
    }
}
