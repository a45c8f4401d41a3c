using System.Text.Json;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Tests.Shared;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.Nupes.Tests;

/// <summary>
/// Weights stored as Constant nodes (Paddle, tf2onnx) are coded exactly like initializers: the CNN and the transformer
/// with attention ship the same numbers and the same packed file either way.
/// </summary>
public sealed class ConstantWeightTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "nupes-constants-" + Guid.NewGuid().ToString("N"));

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
    public void Nupes_ships_the_same_quality_and_size_when_the_weights_are_Constant_nodes(string sample)
    {
        var runs = ConstantWeightRuns.Run(sample == "cnn" ? ConstantWeightRuns.Cnn : ConstantWeightRuns.Transformer(), """
            targets:
              nupes:
                device: cpu-x64-vnni
                recipe:
                  - {pass: nupes, bits: 4}
            """, _root);

        (JsonElement initializers, JsonElement constants) = runs["nupes"];
        output.WriteLine($"{sample}: top1 {Value(initializers)} / {Value(constants)}, SQNR {Sqnr(initializers):0.000} / {Sqnr(constants):0.000} dB, " +
            $"{Bytes(initializers)} / {Bytes(constants)} bytes from {Fp32Bytes(initializers)} / {Fp32Bytes(constants)} (initializers / Constant nodes)");
        Assert.Equal(Value(initializers), Value(constants), 1e-9);
        Assert.Equal(Sqnr(initializers), Sqnr(constants), 1e-6);

        // Every weight the exported model codes is coded from Constant nodes too: the same packed code tensors, byte for byte.
        Dictionary<string, byte[]> Codes(JsonElement t) => OnnxModelLoader.Load(t.GetProperty("outputPath").GetString()!).Graph.Initializers
            .Where(i => i.Name!.EndsWith(".codes4b", StringComparison.Ordinal) && i.ElementType == ElementType.UInt8).ToDictionary(i => i.Name!, i => i.Data.ToArray());
        Dictionary<string, byte[]> fromInitializers = Codes(initializers), fromConstants = Codes(constants);
        Assert.NotEmpty(fromInitializers);
        Assert.Equal(fromInitializers.Keys.Order(), fromConstants.Keys.Order());
        Assert.All(fromInitializers, kv => Assert.Equal(kv.Value, fromConstants[kv.Key]));
        // The files differ only by what storing the uncoded constants (biases, shapes, the embedding) as nodes costs.
        double nodeOverhead = Fp32Bytes(constants) - Fp32Bytes(initializers);
        Assert.InRange(Bytes(constants) - Bytes(initializers), 0, nodeOverhead);
    }

    private static double Value(JsonElement t) => t.GetProperty("quantizedValue").GetDouble();

    private static double Sqnr(JsonElement t) => t.GetProperty("outputSqnrDb").GetDouble();

    private static double Bytes(JsonElement t) => t.GetProperty("quantizedBytes").GetDouble();

    private static double Fp32Bytes(JsonElement t) => t.GetProperty("fp32Bytes").GetDouble();
}
