using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Encodes the planned model with the calibrated ranges and saves it as it will ship (external data when over protobuf's limit).</summary>
internal static class EncodeStage
{
    public const string Name = "encode";

    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB3007 when nothing was quantized and there is no recipe.</exception>
    public static Candidate Run(TargetContext t, TargetPlan plan, IReadOnlyDictionary<string, TensorRange> ranges)
    {
        EncodeResult encoded = QdqEncoder.Encode(plan.Model, FallbackRunner.Restrict(ranges, plan.Encoded), t.EncodeOptions(plan));
        if (encoded.QuantizedLayers.Count == 0 && t.Target.Recipe.Count == 0)
        {
            // The output would be the input again: that is not a pass, and scoring it would waste minutes.
            throw QuantizationErrors.NothingQuantized(t.Target.Name, encoded.UnquantizedNodes);
        }

        foreach (UnusedWeightEncoding u in encoded.UnusedWeightEncodings)
        {
            t.Log.Warning("{Target}: the encoding recipe pass '{Origin}' chose for weight '{Weight}' is not used: its layer '{Node}' stays fp32 ({Reason})",
                t.Target.Name, u.Origin, u.Weight, u.NodeName, u.Reason);
        }

        string candidate = t.Loaded.Workspace.PathFor(t.Target.Name, Path.GetFileName(t.OutputPath));
        return Candidate.Save(encoded, candidate, t.Loaded.Workspace.PathFor(t.Target.Name, "encoded.weights"));
    }
}
