using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// Finds the Loop/Scan body tensors that cannot be observed as scan outputs: ONNX Runtime stacks a scan output over the
/// iterations only when every iteration gives it the same shape (a sequence that grows by one row per step does not; nor
/// does a tensor of an If branch inside a body that only some iterations take, which outputs an empty placeholder in the
/// others). One run of a batch (the first; again any later one on which calibration fails) exposing every body tensor tells whether any is affected; only then is each run
/// alone to name it. Session failures are not caught: only a run that fails with every body tensor exposed and succeeds
/// without the one singled out marks it.
/// </summary>
internal static class BodyShapes
{
    /// <summary>The tensors of <paramref name="tensors"/> that ONNX Runtime cannot stack over the iterations, with the reason.</summary>
    public static Dictionary<string, string> Varying(OnnxModel model, BranchExposure exposure, IReadOnlyList<string> tensors,
        Func<IReadOnlyDictionary<string, DenseTensor>> firstBatch, SessionOptions options)
    {
        var varying = new Dictionary<string, string>(StringComparer.Ordinal);
        List<string> bodies = tensors.Where(t => exposure.LeadingAxes(t) > 0).ToList();
        if (bodies.Count == 0)
        {
            return varying;
        }

        IReadOnlyDictionary<string, DenseTensor> batch = firstBatch();
        if (Runs(exposure, bodies, batch, options))
        {
            return varying;
        }

        foreach (string tensor in bodies)
        {
            if (!Runs(BranchExposure.Create(model, [tensor]), [tensor], batch, options))
            {
                varying[tensor] = Branches.Varying(tensor);
            }
        }

        return varying;
    }

    private static bool Runs(BranchExposure exposure, IReadOnlyList<string> tensors, IReadOnlyDictionary<string, DenseTensor> batch, SessionOptions options)
    {
        List<string> outputs = tensors.Select(exposure.OutputName).ToList();
        using InferenceSession session = ModelSessions.Open(exposure.Model, options, outputs);
        try
        {
            session.Run(batch, outputs);
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }
}
