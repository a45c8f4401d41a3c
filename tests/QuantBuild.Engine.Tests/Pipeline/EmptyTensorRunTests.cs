using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Fallback;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// A planned activation that holds no values on any calibration batch (a [batch, 0] slice whose end the data computes,
/// so no rewrite folds it away) has no range: the run ships, and the nodes that needed it are fp32 saying why.
/// </summary>
public sealed class EmptyTensorRunTests
{
    [Fact]
    public void A_tensor_empty_on_every_calibration_batch_leaves_the_nodes_needing_its_range_fp32_with_that_reason()
    {
        using var folder = new TempFolder();
        string yaml = OutlierModels.WriteConfig(folder.Path, WithEmptySidePath(OutlierModels.Sample()), """
              int8: { device: cpu-x64-vnni }
            """);

        RunResult result = new QuantizePipeline(QuantizeConfigLoader.Load(yaml)).Run(new PipelineOptions());

        TargetResult t = result.Targets.Single();
        Assert.Equal(TargetStatus.Passed, t.Status);
        Assert.Contains(new FloatNode("empty_add", "Add", Calibrator.Empty("empty_sum")), t.FloatNodes);
        Assert.Contains(new FloatNode("empty_matmul", "MatMul", Calibrator.Empty("empty_sum")), t.FloatNodes);
        Assert.Contains(t.Layers, l => l.Node == "/classifier/classifier.4/Gemm");
        Assert.True(t.OutputPath is not null && File.Exists(t.OutputPath));
    }

    // logits = Gemm(...) + MatMul(e + e, w[0, 10]) with e = hidden[:, 0:end] and end = Relu(-|max hidden|) = 0.
    private static OnnxModel WithEmptySidePath(OnnxModel model)
    {
        const string Hidden = "/classifier/classifier.2/Relu_output_0";
        Graph g = model.Graph;
        g.Nodes.Single(n => n.Outputs.Contains("logits")).Outputs.Replace(0, "logits_main");
        g.Initializers.Add(Rewrites.GraphConstantsForTests.Int64s("zero", [0], 1));
        g.Initializers.Add(Rewrites.GraphConstantsForTests.Int64s("one", [1], 1));
        g.Initializers.Add(TensorValue.FromFloats("w_empty", [], 0, 10));
        g.AddNode("ReduceMax", "end_max", [Hidden], ["end_max_out"], NodeAttribute.FromInt("keepdims", 0));
        g.AddNode("Abs", "end_abs", ["end_max_out"], ["end_abs_out"]);
        g.AddNode("Neg", "end_neg", ["end_abs_out"], ["end_neg_out"]);
        g.AddNode("Relu", "end_relu", ["end_neg_out"], ["end_relu_out"]);
        g.AddNode("Cast", "end_cast", ["end_relu_out"], ["end_scalar"], NodeAttribute.FromInt("to", (long)ElementType.Int64));
        g.AddNode("Unsqueeze", "end_unsqueeze", ["end_scalar", "zero"], ["end"]);
        g.AddNode("Slice", "empty_slice", [Hidden, "zero", "end", "one"], ["empty"]);
        g.AddNode("Add", "empty_add", ["empty", "empty"], ["empty_sum"]);
        g.AddNode("MatMul", "empty_matmul", ["empty_sum", "w_empty"], ["zeros"]);
        g.AddNode("Add", "sum", ["logits_main", "zeros"], ["logits"]);
        return model;
    }
}
