using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Rewrites;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>
/// ONNX's PyTorch-exported test models (Debian's libonnx-testdata: pytorch-converted and pytorch-operator, written at
/// opset 6 with IR 3 by early torch.onnx) after every rewrite: ONNX Runtime on the rewritten model reproduces the
/// outputs PyTorch recorded, within the backend tests' tolerance. ORT cannot load opset 6 itself, so this is the
/// only way such a model can be quantized at all.
/// </summary>
public class PytorchExportTests
{
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        foreach (string folder in new[] { "pytorch-converted", "pytorch-operator" })
        {
            foreach (string dir in Directory.GetDirectories(Path.Combine(OnnxTestData.Root, folder)).Order(StringComparer.Ordinal))
            {
                data.Add(Path.Combine(folder, Path.GetFileName(dir)));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Rewritten_export_reproduces_PyTorchs_outputs_in_ORT(string name)
    {
        string dir = Path.Combine(OnnxTestData.Root, name);
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(dir, "model.onnx"));
        var initializers = new HashSet<string>(model.Graph.Initializers.Select(t => t.Name!), StringComparer.Ordinal);
        List<string> inputs = model.Graph.Inputs.Select(i => i.Name).Where(n => !initializers.Contains(n)).ToList();
        List<string> outputs = model.Graph.Outputs.Select(o => o.Name).ToList();

        IReadOnlyList<RewriteResult> results = GraphRewriteRunner.Run(model);

        Assert.True(model.OpsetVersion() >= OpsetUpgradeRewrite.DefaultTarget);
        string set = Path.Combine(dir, "test_data_set_0");
        var feed = new Dictionary<string, DenseTensor>(StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++)
        {
            feed[inputs[i]] = OnnxTensorFile.Load(Path.Combine(set, $"input_{i}.pb"));
        }

        IReadOnlyDictionary<string, DenseTensor> actual = RewriteHarness.Run(model, feed);
        for (int o = 0; o < outputs.Count; o++)
        {
            DenseTensor expected = OnnxTensorFile.Load(Path.Combine(set, $"output_{o}.pb"));
            DenseTensor got = actual[outputs[o]];
            Assert.Equal(expected.ShapeArray(), got.ShapeArray());
            if (expected.ElementType != ElementType.Float)
            {
                Assert.Equal(expected.Data.ToArray(), got.Data.ToArray());
                continue;
            }

            ReadOnlySpan<float> e = expected.AsSpan<float>();
            ReadOnlySpan<float> a = got.AsSpan<float>();
            for (int i = 0; i < e.Length; i++)
            {
                // sqrt and pow of negative inputs: PyTorch recorded NaN, and NaN is what must come out.
                Assert.True(float.IsNaN(e[i]) ? float.IsNaN(a[i]) : Math.Abs(e[i] - a[i]) <= 1e-5 + 1e-3 * Math.Abs(e[i]),
                    $"{name} output {o}[{i}]: expected {e[i]}, got {a[i]} (rewrites: {string.Join("; ", results.Select(r => r.Summary()))})");
            }
        }
    }
}
