using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Plugins;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// The per-layer probe on a layer inside an If branch: measured when the probed samples take the branch, and "not run"
/// (no SQNR) when none does, rather than an SQNR of +∞ that reads as "exact". The model is
/// <see cref="PassContextScopeTests.Branched"/>, quantized with ranges from data that takes the then branch.
/// </summary>
public sealed class LayerErrorProbeTests
{
    [Fact]
    public void A_branch_layer_the_probed_samples_never_run_has_no_SQNR_and_one_they_run_has_a_finite_one()
    {
        OnnxModel model = PassContextScopeTests.Branched();
        var options = new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni };
        EncodeResult encoded;
        using (IDataSource taken = PassContextScopeTests.Bound(model, taken: true))
        {
            CalibrationResult calibrated = Calibrator.Run(model, taken, new CalibrationRequest { Tensors = QdqEncoder.Plan(model, options), BatchSize = 2, BatchSizeFromBudget = false, Bins = 0 });
            encoded = QdqEncoder.Encode(model, calibrated.Observers.Where(o => o.Value.Count > 0).ToDictionary(o => o.Key, o => new TensorRange(o.Value.Min, o.Value.Max), StringComparer.Ordinal), options);
        }

        Assert.Contains(encoded.QuantizedLayers, l => l.NodeName == "then_matmul");

        LayerError ran, skipped;
        using (IDataSource taken = PassContextScopeTests.Bound(model, taken: true))
        {
            ran = LayerErrorProbe.Measure(model, encoded.Model, encoded.QuantizedLayers, taken, 6, null).Single(l => l.Node == "then_matmul");
        }

        using (IDataSource other = PassContextScopeTests.Bound(model, taken: false))
        {
            skipped = LayerErrorProbe.Measure(model, encoded.Model, encoded.QuantizedLayers, other, 6, null).Single(l => l.Node == "then_matmul");
        }

        Assert.True(ran.SqnrDb is double db && double.IsFinite(db) && db > 20, $"SQNR {ran.SqnrDb}");
        Assert.Null(skipped.SqnrDb);
    }
}
