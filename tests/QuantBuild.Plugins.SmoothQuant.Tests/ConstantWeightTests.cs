using System.Text.Json;
using QuantBuild.Tests.Shared;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.SmoothQuant.Tests;

/// <summary>
/// Weights and norm parameters stored as Constant nodes (Paddle, tf2onnx) are smoothed exactly like initializers: the
/// CNN and the transformer with attention and activation outliers ship the same numbers either way.
/// </summary>
public sealed class ConstantWeightTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "smoothquant-constants-" + Guid.NewGuid().ToString("N"));

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

    [Theory]
    [InlineData("cnn")]
    [InlineData("transformer")]
    public void SmoothQuant_ships_the_same_quality_when_the_weights_are_Constant_nodes(string sample)
    {
        var runs = ConstantWeightRuns.Run(sample == "cnn" ? ConstantWeightRuns.Cnn : ConstantWeightRuns.Transformer("model_outliers.onnx"), """
            targets:
              plain:
                device: cpu-x64-vnni
              smooth:
                device: cpu-x64-vnni
                recipe:
                  - pass: smoothquant
            """, _root);

        foreach ((string target, (JsonElement initializers, JsonElement constants)) in runs)
        {
            output.WriteLine($"{sample} {target}: top1 {Value(initializers)} / {Value(constants)}, SQNR {Sqnr(initializers):0.000} / {Sqnr(constants):0.000} dB (initializers / Constant nodes)");
            Assert.Equal(Value(initializers), Value(constants), 1e-9);
            Assert.Equal(Sqnr(initializers), Sqnr(constants), 1e-6);
        }

        if (sample == "transformer")
        {
            // The outliers sit in LayerNorm channels: smoothing them from Constant-node parameters wins back what W8A8 lost.
            Assert.True(Value(runs["smooth"].Constants) > Value(runs["plain"].Constants) + 5, $"smoothed {Value(runs["smooth"].Constants)} vs plain {Value(runs["plain"].Constants)}");
        }
    }

    private static double Value(JsonElement t) => t.GetProperty("quantizedValue").GetDouble();

    private static double Sqnr(JsonElement t) => t.GetProperty("outputSqnrDb").GetDouble();
}
