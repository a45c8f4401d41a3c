using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>
/// The contract 2.0 verbs: what a pass says through <see cref="IPassContext.KeepInFloat"/> and
/// <see cref="IPassContext.SetActivationRange"/> reaches the encoder, and a call that would do nothing is refused.
/// </summary>
public sealed class PassDecisionTests
{
    private static (PassContext Context, RecipeDecisions Decisions) ContextOver(OnnxModel model)
    {
        var decisions = new RecipeDecisions();
        var env = new PassEnvironment { Calibration = new InMemoryDataSource("zeros", [("x", DenseTensor.Zeros(ElementType.Float, 2, 3, 16, 16))]) };
        return (new PassContext("x64", "fixture-pass", model, DeviceProfiles.CpuX64Vnni, new TargetWeightFormat(8, true, null), 1, env, decisions, CancellationToken.None), decisions);
    }

    [Fact]
    public void A_node_a_pass_keeps_in_float_stays_fp32_and_the_report_gives_the_pass_and_its_reason()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        (PassContext context, RecipeDecisions decisions) = ContextOver(model);

        context.KeepInFloat("conv2", "three output channels carry outliers");
        EncodeResult result = QdqEncoder.Encode(model, TestGraphs.SmallConvNetRanges(),
            decisions.Result(model).ApplyTo(new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni }));

        Node conv2 = result.Model.Graph.Nodes.Single(n => n.Name == "conv2");
        Assert.Equal("conv2.weight", conv2.Inputs[1]);
        Assert.Equal(ElementType.Float, result.Model.Graph.Initializer("conv2.weight").ElementType);
        Assert.Contains(new UnquantizedNode("conv2", "Conv", "kept in float by pass 'fixture-pass': three output channels carry outliers"), result.UnquantizedNodes);
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "conv1");
    }

    [Fact]
    public void A_range_a_pass_sets_replaces_the_calibrated_one_in_the_encoded_grid()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        (PassContext context, RecipeDecisions decisions) = ContextOver(model);

        context.SetActivationRange("r1", 0.5f, 2.55f);
        EncodeResult result = QdqEncoder.Encode(model, TestGraphs.SmallConvNetRanges(),
            decisions.Result(model).ApplyTo(new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni }));

        // uint8 asymmetric over [0, 2.55] (0 is always included): one step is 0.01; calibration said [0, 5].
        Node quantize = result.Model.Graph.Nodes.Single(n => n.OpType == "QuantizeLinear" && n.Inputs[0] == "r1");
        Assert.Equal(0.01f, result.Model.Graph.Initializer(quantize.Inputs[1]).Floats().Single(), 6);
    }

    [Fact]
    public void Keeping_a_node_the_model_does_not_have_or_setting_an_empty_range_is_refused()
    {
        (PassContext context, RecipeDecisions decisions) = ContextOver(TestGraphs.SmallConvNet());

        Assert.Contains("no node of that name", Assert.Throws<ArgumentException>(() => context.KeepInFloat("conv9", "typo")).Message);
        Assert.Throws<ArgumentException>(() => context.KeepInFloat("conv2", " "));
        Assert.Throws<ArgumentException>(() => context.SetActivationRange("r1", 3f, 2f));
        Assert.Throws<ArgumentException>(() => context.SetActivationRange("r1", 0f, float.PositiveInfinity));
        PassRunResult nothing = decisions.Result(context.Model);
        Assert.Empty(nothing.KeptInFloat);
        Assert.Empty(nothing.ActivationRanges);
    }

    [Fact]
    public void The_loaded_models_weights_are_read_only_and_a_copy_is_the_way_to_change_them()
    {
        TensorValue weight = TestGraphs.SmallConvNet().Graph.Initializer("conv1.weight");

        ReadOnlySpan<float> view = weight.AsReadOnlySpan<float>();
        DenseTensor copy = weight.ToDense();
        copy.AsSpan<float>()[0] = 42f;

        Assert.NotEqual(42f, view[0]);
        Assert.Equal(weight.ElementCount, view.Length);
        Assert.Throws<InvalidOperationException>(() => weight.AsReadOnlySpan<byte>().Length);
    }
}
