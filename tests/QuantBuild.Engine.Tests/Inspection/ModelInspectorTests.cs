using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Inspection;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Inspection;

public sealed class ModelInspectorTests
{
    [Fact]
    public void A_weight_decoded_from_initializers_is_reported_as_decoded_not_as_a_runtime_input()
    {
        // packed codes → Cast → Mul(scale) → MatMul's weight, as the nupes pass writes; and a MatMul of two inputs
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, 2, 6));
        g.Inputs.Add(TestGraphs.Value("b", ElementType.Float, 4, 3));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, 2, 4));
        g.Outputs.Add(TestGraphs.Value("z", ElementType.Float, 2, 3));
        g.AddDecodedWeight("w");
        g.AddNode("MatMul", "coded", new[] { "a", "w" }, new[] { "y" });
        g.AddNode("MatMul", "runtime", new[] { "y", "b" }, new[] { "z" });

        string path = Path.Combine(Path.GetTempPath(), $"inspect-{Guid.NewGuid():N}.onnx");
        Onnx.OnnxModelSaver.Save(model, path);
        ModelReport report;
        try
        {
            report = ModelInspector.Inspect(model, path);
        }
        finally
        {
            File.Delete(path);
        }

        QuantizableNode coded = report.Quantizable.Single(q => q.Name == "coded");
        Assert.Equal("w", coded.Weight);
        Assert.False(coded.WeightIsConstant);
        Assert.True(coded.WeightIsDecoded);
        QuantizableNode runtime = report.Quantizable.Single(q => q.Name == "runtime");
        Assert.False(runtime.WeightIsConstant);
        Assert.False(runtime.WeightIsDecoded);
    }
}
