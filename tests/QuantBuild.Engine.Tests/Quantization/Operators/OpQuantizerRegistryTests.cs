using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Inspection;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Quantization.Operators;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Engine.Tests.Quantization.Operators;

/// <summary>One registry answers every op question; the device profiles, inspect and the docs are queries of it.</summary>
public sealed class OpQuantizerRegistryTests
{
    [Fact]
    public void Two_families_cannot_claim_the_same_op()
    {
        OpQuantizerRegistry registry = OpQuantizerRegistry.CreateBuiltIn();

        var e = Assert.Throws<InvalidOperationException>(() => registry.Register(new KeptInFloatQuantizer("test", "Conv")));

        Assert.Contains("Conv is already registered by ConvQuantizer", e.Message);
    }

    [Fact]
    public void Each_run_builds_its_own_registry_so_registering_in_one_never_changes_another()
    {
        OpQuantizerRegistry first = OpQuantizerRegistry.CreateBuiltIn();
        OpQuantizerRegistry second = OpQuantizerRegistry.CreateBuiltIn();

        first.Register(new KeptInFloatQuantizer("a test family", "MyCustomOp"));

        Assert.NotNull(first.Find(new Node { OpType = "MyCustomOp" }));
        Assert.Null(second.Find(new Node { OpType = "MyCustomOp" }));
    }

    [Fact]
    public void The_cpu_profiles_integer_ops_are_exactly_the_registrys()
    {
        IReadOnlySet<string> registry = OpQuantizerRegistry.CreateBuiltIn().IntegerOpTypes();

        foreach (var profile in DeviceProfiles.All.Values)
        {
            Assert.Equal(registry.Order(StringComparer.Ordinal), profile.Kernels.IntegerOps.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Ops_outside_the_default_domain_are_not_answered_by_a_default_domain_family()
    {
        OpQuantizerRegistry registry = OpQuantizerRegistry.CreateBuiltIn();

        Assert.Null(registry.Find(new Node { OpType = "Conv", Domain = "com.example" }));
        Assert.IsType<ConvQuantizer>(registry.Find(new Node { OpType = "Conv" }));
    }

    [Fact]
    public void Configuration_docs_list_every_registered_op_and_what_it_becomes()
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "configuration.md"));
        int section = docs.IndexOf("## Operators", StringComparison.Ordinal);
        Assert.True(section >= 0, "docs/configuration.md has no '## Operators' section");
        string table = docs[section..];

        foreach (OpQuantizer family in OpQuantizerRegistry.CreateBuiltIn().Families)
        {
            foreach (string op in family.OpTypes)
            {
                Assert.True(table.Contains($"`{op}`", StringComparison.Ordinal), $"docs/configuration.md's operator table lacks `{op}` ({family.GetType().Name})");
            }
        }
    }

    [Fact]
    public void Inspect_and_the_encoder_give_every_layer_the_same_verdict_and_reason()
    {
        // A Conv net with a ConvTranspose and a MatMul whose weight is a graph input a caller may replace.
        OnnxModel model = TestGraphs.SmallConvNet();
        Graph g = model.Graph;
        g.AddWeight("up.weight", 9, 0.1f, 16, 4, 2, 2);
        g.AddNode("ConvTranspose", "up", new[] { "r2", "up.weight" }, new[] { "upsampled" }, NodeAttribute.FromInts("strides", 2, 2));
        g.Outputs.Add(TestGraphs.Value("upsampled"));
        g.Inputs.Add(TestGraphs.Value("w_in", ElementType.Float, 10, 10));
        g.AddWeight("w_in", 10, 0.1f, 10, 10);
        g.AddNode("MatMul", "head", new[] { "logits", "w_in" }, new[] { "head_out" });
        g.Outputs.Add(TestGraphs.Value("head_out"));
        var ranges = TestGraphs.SmallConvNetRanges();

        EncodeResult encoded = QdqEncoder.Encode(model, ranges, new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni });
        ModelReport report = Inspect(model);

        foreach (QuantizableNode layer in report.Quantizable)
        {
            UnquantizedNode? fp32 = encoded.UnquantizedNodes.SingleOrDefault(n => n.NodeName == layer.Name);
            Assert.Equal(fp32?.Reason, layer.Fp32Reason);
        }

        Assert.Contains(report.Quantizable, q => q.Name == "up" && q.Fp32Reason!.StartsWith("ConvTranspose: ONNX Runtime's CPU provider has no integer ConvTranspose kernel", StringComparison.Ordinal));
        Assert.Contains(report.Quantizable, q => q.Name == "head" && q.Fp32Reason!.Contains("also a graph input", StringComparison.Ordinal));
        Assert.Equal(3, report.Quantizable.Count(q => q.Fp32Reason is null));
    }

    private static ModelReport Inspect(OnnxModel model)
    {
        string path = Path.Combine(Path.GetTempPath(), $"registry-{Guid.NewGuid():N}.onnx");
        Onnx.OnnxModelSaver.Save(model, path);
        try
        {
            return ModelInspector.Inspect(model, path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
