using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Testing;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary>
/// The engine's own pass context (QuantBuild.Testing) over the Fashion-MNIST sample, for calling the pass directly:
/// the same batches and model runner the pipeline uses, so the pass sees exactly what it sees inside <c>quantbuild run</c>.
/// </summary>
internal static class SampleContext
{
    public static PassTestContext For(OnnxModel model, string calibrationNpy, int batch, TargetWeightFormat weights) =>
        PassTestContext.FromFiles(model, calibrationNpy, new PassTestOptions { Weights = weights, BatchSize = batch, PassName = "adaquant" });
}
