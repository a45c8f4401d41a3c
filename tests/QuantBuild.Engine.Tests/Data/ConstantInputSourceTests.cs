using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>
/// Inputs bound to constants in quantize.yaml, on a model shaped like Silero VAD v5's: batched audio <c>x</c>
/// [n, 4], a 0-d int64 sample rate <c>sr</c> and a float state [2, ?, 3] whose first axis is not a batch.
/// </summary>
public sealed class ConstantInputSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qb-bind-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly SourceLocation Yaml = new("/work/quantize.yaml", 4, 3);

    /// <summary>y = x · sr + Σ state: ONNX Runtime shows what each input was fed.</summary>
    private static OnnxModel VadShaped()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 4));
        g.Inputs.Add(TestGraphs.Value("sr", ElementType.Int64));
        g.Inputs.Add(TestGraphs.Value("state", ElementType.Float, 2, "b", 3));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "n", 4));
        g.AddNode("Cast", "sr_f", ["sr"], ["srf"], NodeAttribute.FromInt("to", (long)ElementType.Float));
        g.AddNode("Mul", "scale", ["x", "srf"], ["xs"]);
        g.AddNode("ReduceSum", "state_sum", ["state"], ["s"], NodeAttribute.FromInt("keepdims", 0));
        g.AddNode("Add", "out", ["xs", "s"], ["y"]);
        return model;
    }

    private IDataSource Audio(int rows, out float[] x)
    {
        x = Enumerable.Range(0, rows * 4).Select(i => i * 0.25f - 1).ToArray();
        string path = Path.Combine(_dir, "x.npy");
        DataSourceTests.WriteNpy(path, DenseTensor.FromFloats(x, rows, 4));
        return NpyDataSource.Single("x", path);
    }

    [Fact]
    public void A_scalar_and_a_state_are_fed_whole_to_every_batch_and_only_the_audio_is_batched()
    {
        OnnxModel model = VadShaped();
        InputBindingConfig[] bindings = [new("sr", 16000, null, Yaml), new("state", 0.5, [2, 1, 3], Yaml)];
        Assert.Equal(["x"], ConstantInputSource.DataInputs(model, bindings));
        using IDataSource source = ConstantInputSource.Wrap(Audio(7, out float[] x), model, bindings);

        var batcher = new Batcher(source, model, 3);
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model));
        var y = new List<float>();
        var sizes = new List<long>();
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in batcher.Batches())
        {
            sizes.Add(batch["x"].Shape[0]);
            y.AddRange(session.Run(batch, ["y"])["y"].AsSpan<float>().ToArray());
        }

        // The state's leading 2 is not a batch size: batches are the requested 3, 3 and the last 1.
        Assert.Equal([3L, 3L, 1L], sizes);
        Assert.Equal(x.Select(v => v * 16000f + 3f), y);
    }

    [Fact]
    public void A_name_the_model_lacks_is_QB1303_with_the_yaml_line_and_a_suggestion()
    {
        var e = Assert.Throws<QuantBuildException>(() => ConstantInputSource.Wrap(Audio(2, out _), VadShaped(), [new("stat", 0, [2, 1, 3], Yaml)]));
        Assert.Equal("QB1303", e.Code);
        Assert.Equal((Yaml.File, 4, 3), (e.FilePath, e.Line, e.Column));
        Assert.Contains("Did you mean 'state'?", e.Message);
    }

    [Theory]
    [InlineData(16000.0, new long[] { 1 }, "sr", "does not fit the model's []")]
    [InlineData(0.0, null, "state", "cannot be taken from the model")]
    [InlineData(0.0, new long[] { 3, 1, 3 }, "state", "does not fit the model's [2,b,3]")]
    [InlineData(16000.5, null, "sr", "is not a int64 value")]
    public void A_shape_or_value_that_does_not_fit_the_input_is_QB1304(double value, long[]? shape, string input, string why)
    {
        var e = Assert.Throws<QuantBuildException>(() => ConstantInputSource.Wrap(Audio(2, out _), VadShaped(), [new(input, value, shape, Yaml)]));
        Assert.Equal("QB1304", e.Code);
        Assert.Equal(4, e.Line);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void Without_bindings_the_source_is_returned_as_is()
    {
        IDataSource audio = Audio(2, out _);
        using IDataSource same = ConstantInputSource.Wrap(audio, VadShaped(), []);
        Assert.Same(audio, same);
    }
}
