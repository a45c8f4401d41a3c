using System.Reflection;
using System.Runtime.Loader;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;
using QuantBuild.Testing;
using QuantBuild.Tests.Shared;

namespace QuantBuild.PassKit.Tests;

/// <summary>PassKit is no shared assembly: every plugin that carries it loads its own copy, privately, and they run side by side.</summary>
public sealed class PluginIsolationTests
{
    [Fact]
    public void Every_plugin_carrying_PassKit_loads_its_own_copy_and_all_of_them_run_in_one_process()
    {
        string sample = Path.Combine(RepositoryRoot.Path, "samples", "PercentileClipPlugin", "bin", "plugin");
        using PluginHost host = PluginHost.Load([new PluginReference { Path = sample, AllowOutside = true }], AppContext.BaseDirectory);
        Assert.Empty(host.Failures);

        string[] names = ["adaquant", "nupes", "smoothquant", "percentile-clip"];
        var copies = new List<Assembly>();
        foreach (string name in names)
        {
            IQuantizationPass pass = host.Passes[name];
            AssemblyLoadContext context = AssemblyLoadContext.GetLoadContext(pass.GetType().Assembly)!;
            Assembly passKit = Assert.Single(context.Assemblies, a => a.GetName().Name == "QuantBuild.PassKit");
            Assert.StartsWith(Path.GetDirectoryName(pass.GetType().Assembly.Location)!, passKit.Location, StringComparison.Ordinal);
            copies.Add(passKit);

            // Each runs on a model whose weight is a Constant node and finds that layer through its own PassKit: it records
            // codes for it (adaquant, percentile-clip), replaces it by a decode subgraph (nupes) or smooths it (smoothquant).
            using PassTestContext run = Context();
            pass.Run(run, Activator.CreateInstance(pass.OptionsType)!);
            bool acted = name switch
            {
                "nupes" => new GraphIndex(run.Model).KindOf("w") is null && run.Model.Graph.Nodes.Any(n => n.Outputs.Contains("w")),
                "smoothquant" => run.Model.Graph.Nodes.Single(n => n.OpType == "MatMul").Inputs[1] != "w",
                _ => run.Encodings.ContainsKey("w"),
            };
            Assert.True(acted, $"{name} did not act on the Constant-node weight:\n{string.Join('\n', run.Lines)}");
        }

        Assert.Equal(names.Length, copies.Distinct().Count());
        Assert.DoesNotContain(typeof(GraphIndex).Assembly, copies); // the host's own copy (this test's) is not theirs
        Assert.All(copies, a => Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(a)));
    }

    // x [64, 16] · W [16, 8], W stored as a Constant node.
    private static PassTestContext Context()
    {
        Node matmul = OrtModels.Node("MatMul", ["x", "w"]);
        OnnxModel model = OrtModels.Single(matmul, [64, 16], TensorValue.FromFloats("w", OrtModels.Values(16 * 8, 7), 16, 8));
        LinearLayerTests.MoveToConstantNode(model, "w");
        model.Graph.Inputs.Replace(0, OrtModels.Value("x", [-1, 16]));
        return PassTestContext.FromTensors(model, new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(OrtModels.Values(64 * 16, 8), 64, 16) });
    }
}
