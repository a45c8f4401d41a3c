using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>
/// <c>inputs: {h: {value: 0, shape: [1, 4], stream: hN}}</c>: calibration and evaluation run the windows in order and
/// feed each window the state the one before computed. The model is a one-layer recurrent cell built here:
/// pre = x·Wx + h·Wh, hN = tanh(pre), y = 2·hN.
/// </summary>
public sealed class StreamFeedbackTests
{
    private const int Windows = 6;

    [Fact]
    public void Evaluation_feeds_the_state_back_window_after_window_like_a_manual_loop()
    {
        OnnxModel model = Cell();
        using IDataSource data = Streamed(model, "hN");

        EvaluationResult result = Evaluator.Run(OnnxModelSaver.SaveToBytes(model), model, data, null, new CosineMetric(), "y", 1, null, keepOutputs: true);

        List<float[]> manual = Loop(model, feedBack: true);
        List<float[]> zeroState = Loop(model, feedBack: false);
        Assert.Equal(Windows, result.Outputs!.Count);
        for (int w = 0; w < Windows; w++)
        {
            Assert.Equal(manual[w], result.Outputs[w].AsSpan<float>().ToArray());
        }

        // From the second window on, a constant zero state gives other numbers: the feedback is what was measured.
        Assert.All(Enumerable.Range(1, Windows - 1), w => Assert.NotEqual(zeroState[w], manual[w]));
    }

    [Fact]
    public void Calibration_observes_the_streamed_activations()
    {
        OnnxModel model = Cell();
        using IDataSource data = Streamed(model, "hN");

        CalibrationResult calibrated = Calibrator.Run(model, data, new CalibrationRequest { Tensors = ["pre"], BatchSize = 1, BatchSizeFromBudget = false, Bins = 0 });

        float[] pre = Loop(model, feedBack: true, output: "pre").SelectMany(v => v).ToArray();
        Assert.Equal(pre.Min(), calibrated.Observers["pre"].Min);
        Assert.Equal(pre.Max(), calibrated.Observers["pre"].Max);
        float[] zero = Loop(model, feedBack: false, output: "pre").SelectMany(v => v).ToArray();
        Assert.False(zero.Min() == pre.Min() && zero.Max() == pre.Max());
    }

    [Fact]
    public void A_stream_of_an_output_the_model_does_not_have_is_refused_with_the_yaml_line()
    {
        OnnxModel model = Cell();
        var e = Assert.Throws<QuantBuildException>(() => Streamed(model, "hn"));
        Assert.Equal("QB1307", e.Code);
        Assert.Contains("hN", e.Message);
        Assert.Equal(("quantize.yaml", 3), (e.FilePath, e.Line));
    }

    [Fact]
    public void A_stream_whose_output_has_another_type_is_refused()
    {
        OnnxModel model = Cell();
        model.Graph.Outputs.Add(TestGraphs.Value("steps", ElementType.Int64, 1));
        model.Graph.AddNode("Shape", "steps", ["x"], ["steps_all"]);
        model.Graph.AddNode("Slice", "steps_slice", ["steps_all", "zero", "one"], ["steps"]);
        model.Graph.Initializers.Add(TensorValue.FromDense("zero", DenseTensor.Create(ElementType.Int64, new long[] { 0 }, [1])));
        model.Graph.Initializers.Add(TensorValue.FromDense("one", DenseTensor.Create(ElementType.Int64, new long[] { 1 }, [1])));
        var e = Assert.Throws<QuantBuildException>(() => Streamed(model, "steps"));
        Assert.Equal("QB1307", e.Code);
    }

    private static IDataSource Streamed(OnnxModel model, string output) =>
        ConstantInputSource.Wrap(new InMemoryDataSource("x", [("x", DenseTensor.FromFloats(Inputs(), Windows, 4))]), model,
            [new InputBindingConfig("h", 0, [1, 4], new SourceLocation("quantize.yaml", 3, 3), output)]);

    private static float[] Inputs() => TestGraphs.Normal(5, Windows * 4, 1f);

    private static List<float[]> Loop(OnnxModel model, bool feedBack, string output = "y")
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model));
        float[] x = Inputs();
        var state = DenseTensor.FromFloats(new float[4], 1, 4);
        var outputs = new List<float[]>();
        for (int w = 0; w < Windows; w++)
        {
            var feed = new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(x.AsSpan(w * 4, 4), 1, 4), ["h"] = state };
            IReadOnlyDictionary<string, DenseTensor> r = session.Run(feed, [output, "hN"]);
            outputs.Add(r[output].AsSpan<float>().ToArray());
            if (feedBack)
            {
                state = r["hN"];
            }
        }

        return outputs;
    }

    /// <summary>The cell: pre = x·Wx + h·Wh, hN = tanh(pre), y = 2·hN; outputs y, hN and pre.</summary>
    internal static OnnxModel Cell()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 4));
        g.Inputs.Add(TestGraphs.Value("h", ElementType.Float, "n", 4));
        g.AddWeight("wx", 1, 0.8f, 4, 4);
        g.AddWeight("wh", 2, 0.8f, 4, 4);
        g.Initializers.Add(TensorValue.FromFloats("two", [2f]));
        g.AddNode("MatMul", "input_proj", ["x", "wx"], ["xw"]);
        g.AddNode("MatMul", "state_proj", ["h", "wh"], ["hw"]);
        g.AddNode("Add", "sum", ["xw", "hw"], ["pre"]);
        g.AddNode("Tanh", "tanh", ["pre"], ["hN"]);
        g.AddNode("Mul", "scale", ["hN", "two"], ["y"]);
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "n", 4));
        g.Outputs.Add(TestGraphs.Value("hN", ElementType.Float, "n", 4));
        g.Outputs.Add(TestGraphs.Value("pre", ElementType.Float, "n", 4)); // so the manual loop can read it too
        return model;
    }
}
