using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Fallback;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>
/// The fashion-mnist sample as an older exporter would have written it: opset 11, BatchNormalization left after two
/// Conv layers (the same function: the Conv weights are divided by what the BN multiplies), a Dropout and a pre-13
/// Softmax head. `run` takes it as it is, and the model it ships is opset 13 with the BNs folded.
/// </summary>
public sealed class RewritePipelineTests(ITestOutputHelper output)
{
    private static OnnxModel OldExport()
    {
        OnnxModel m = OutlierModels.Sample();
        m.OpsetImports.Replace(0, new OpsetImport(string.Empty, 11));
        Graph g = m.Graph;
        int seed = 0;
        foreach (string conv in new[] { "/features/features.0/Conv", "/features/features.7/Conv" })
        {
            Node node = g.Nodes.Single(n => n.Name == conv);
            string output = node.Outputs[0];
            node.Outputs.Replace(0, output + "_pre_bn");
            TensorValue w = g.Initializers.Single(t => t.Name == node.Inputs[1]);
            TensorValue b = g.Initializers.Single(t => t.Name == node.Inputs[2]);
            int channels = (int)w.Dims[0];
            var random = new Random(++seed);
            float[] scale = Enumerable.Range(0, channels).Select(_ => (float)(0.5 + random.NextDouble() * 1.5)).ToArray();
            float[] variance = Enumerable.Range(0, channels).Select(_ => (float)(0.1 + random.NextDouble() * 3)).ToArray();
            float[] mean = Enumerable.Range(0, channels).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            float[] shiftB = Enumerable.Range(0, channels).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            float[] weights = MemoryMarshal.Cast<byte, float>(w.Data.Span).ToArray();
            float[] bias = MemoryMarshal.Cast<byte, float>(b.Data.Span).ToArray();
            long perChannel = weights.Length / channels;
            for (int c = 0; c < channels; c++)
            {
                double a = scale[c] / Math.Sqrt(variance[c] + 1e-5);
                double shift = shiftB[c] - mean[c] * a;
                for (long k = c * perChannel; k < (c + 1) * perChannel; k++)
                {
                    weights[k] = (float)(weights[k] / a);
                }

                bias[c] = (float)((bias[c] - shift) / a);
            }

            g.Initializers.Replace(g.Initializers.IndexOf(w), TensorValue.FromFloats(w.Name!, weights, w.Dims));
            g.Initializers.Replace(g.Initializers.IndexOf(b), TensorValue.FromFloats(b.Name!, bias, b.Dims));
            string p = conv + "/bn.";
            g.Initializers.Add(TensorValue.FromFloats(p + "scale", scale, channels));
            g.Initializers.Add(TensorValue.FromFloats(p + "bias", shiftB, channels));
            g.Initializers.Add(TensorValue.FromFloats(p + "mean", mean, channels));
            g.Initializers.Add(TensorValue.FromFloats(p + "var", variance, channels));
            var bn = new Node { OpType = "BatchNormalization", Name = conv + "/bn", Inputs = { node.Outputs[0], p + "scale", p + "bias", p + "mean", p + "var" }, Outputs = { output } };
            g.Nodes.Insert(g.Nodes.IndexOf(node) + 1, bn);
        }

        Node relu = g.Nodes.Single(n => n.Name == "/classifier/classifier.2/Relu");
        Node fc = g.Nodes.Single(n => n.Name == "/classifier/classifier.4/Gemm");
        g.Nodes.Insert(g.Nodes.IndexOf(fc), new Node { OpType = "Dropout", Name = "dropout", Inputs = { relu.Outputs[0] }, Outputs = { "dropped" }, Attributes = { NodeAttribute.FromFloat("ratio", 0.5f) } });
        fc.Inputs.Replace(0, "dropped");
        fc.Outputs.Replace(0, "raw_logits");
        g.Nodes.Add(new Node { OpType = "Softmax", Name = "softmax", Inputs = { "raw_logits" }, Outputs = { "logits" } });
        return m;
    }

    [Fact]
    public void An_opset_11_export_with_unfolded_BatchNorm_is_quantized_as_is_and_ships_folded_at_opset_13()
    {
        using var folder = new TempFolder();
        string yaml = OutlierModels.WriteConfig(folder.Path, OldExport(), "  x64: { device: cpu-x64-vnni }");

        RunResult run = new QuantizePipeline(QuantizeConfigLoader.Load(yaml)).Run(new PipelineOptions());

        TargetResult target = Assert.Single(run.Targets);
        output.WriteLine($"{target.Status} fp32 {target.Fp32Value:0.00} int8 {target.QuantizedValue:0.00} {target.Error}");
        Assert.Equal(TargetStatus.Passed, target.Status);
        Assert.True(target.Fp32Value > 85, $"fp32 top-1 {target.Fp32Value}: the unfolded model should still be the sample's function");
        Assert.Contains(run.Stages, s => s.Stage == "rewrite");
        OnnxModel shipped = OnnxModelLoader.Load(target.OutputPath!);
        Assert.True(shipped.OpsetVersion() >= 13);
        Assert.DoesNotContain(shipped.Graph.Nodes, n => n.OpType is "BatchNormalization" or "Dropout");
        var read = new HashSet<string>(shipped.Graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        Assert.All(shipped.Graph.Initializers, t => Assert.Contains(t.Name!, read));
        Assert.DoesNotContain(target.FloatNodes, f => f.OpType is "BatchNormalization");
    }
}
