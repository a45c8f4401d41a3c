using System.Text.Json;
using QuantBuild.Tests.Shared;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>
/// Weights stored as Constant nodes (Paddle, tf2onnx) are optimised exactly like initializers: the CNN and the
/// transformer with attention ship the same numbers either way, and AdaRound beats round-to-nearest on both.
/// </summary>
public sealed class ConstantWeightTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "adaquant-constants-" + Guid.NewGuid().ToString("N"));

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
    public void AdaRound_ships_the_same_quality_when_the_weights_are_Constant_nodes(string sample)
    {
        var runs = ConstantWeightRuns.Run(sample == "cnn" ? ConstantWeightRuns.Cnn : ConstantWeightRuns.Transformer(), """
            targets:
              nearest:
                device: cpu-x64-vnni
                weights: {bits: 4}
                recipe:
                  - {pass: adaquant, mode: nearest, bias_correction: false}
              ada:
                device: cpu-x64-vnni
                weights: {bits: 4}
                recipe:
                  - {pass: adaquant, iterations: 200}
            """, _root);

        foreach ((string target, (JsonElement initializers, JsonElement constants)) in runs)
        {
            output.WriteLine($"{sample} {target}: top1 {Value(initializers)} / {Value(constants)}, SQNR {Sqnr(initializers):0.000} / {Sqnr(constants):0.000} dB (initializers / Constant nodes)");
            Assert.Equal(Value(initializers), Value(constants), 1e-9);
            Assert.Equal(Sqnr(initializers), Sqnr(constants), 1e-6);
        }

        // The pass acted on the Constant-node weights: AdaRound's 4-bit codes are measurably closer to fp32 than its own
        // round-to-nearest ones (were the layers skipped, both targets would be the encoder's output, equal).
        Assert.True(Sqnr(runs["ada"].Constants) > Sqnr(runs["nearest"].Constants) + 0.5, $"adaround {Sqnr(runs["ada"].Constants)} dB vs nearest {Sqnr(runs["nearest"].Constants)} dB");
    }

    private static double Value(JsonElement t) => t.GetProperty("quantizedValue").GetDouble();

    private static double Sqnr(JsonElement t) => t.GetProperty("outputSqnrDb").GetDouble();
}
