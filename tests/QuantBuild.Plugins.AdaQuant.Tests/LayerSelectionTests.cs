using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Onnx;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary><c>layers</c> picks what the pass optimises; a name that matches nothing is an error, not a silent no-op.</summary>
public sealed class LayerSelectionTests
{
    private static string Sample => Path.Combine(EndToEndTests.RepoRoot(), "samples", "fashion-mnist");

    [Fact]
    public void A_layer_name_the_model_does_not_have_is_QB2302_listing_names_to_use()
    {
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(Sample, "model.onnx"));
        var context = SampleContext.For(model, Path.Combine(Sample, "data", "calibration.npy"), 64, new TargetWeightFormat(4, true, null));

        var error = Assert.Throws<QuantBuildException>(() =>
            new AdaQuantPass().Run(context, new AdaQuantOptions { Layers = ["/features/features.0/Conv", "/features/features.9/Conv"], Iterations = 10 }));

        Assert.Equal("QB2302", error.Code);
        Assert.Contains("'/features/features.9/Conv'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'/features/features.0/Conv'", error.Message, StringComparison.Ordinal);
        Assert.Contains("/features/features.3/Conv", error.Fix, StringComparison.Ordinal);
        Assert.Empty(context.Encodings); // refused before any work
    }

    [Fact]
    public void Op_types_and_existing_node_names_are_accepted()
    {
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(Sample, "model.onnx"));
        var context = SampleContext.For(model, Path.Combine(Sample, "data", "calibration.npy"), 64, new TargetWeightFormat(8, true, null));

        new AdaQuantPass().Run(context, new AdaQuantOptions { Layers = ["Gemm", "/features/features.0/Conv"], Iterations = 10 });

        Assert.Equal(3, context.Encodings.Count); // two Gemm weights and one conv weight
    }
}
