using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>An encoded model saved as it will ship, in the run's scratch folder: the gate scores this file and Package publishes it.</summary>
/// <param name="Encoded">The encoder's result (its weights moved to a mapped scratch file).</param>
/// <param name="Path">The saved .onnx (with a .data beside it when over protobuf's limit).</param>
/// <param name="Bytes">Its size with its external data.</param>
/// <param name="Written">Its hash and stored weight widths, for the manifest.</param>
internal sealed record Candidate(EncodeResult Encoded, string Path, long Bytes, WrittenModel Written)
{
    /// <summary>
    /// How this flow saves candidates; null (the default) is the saver's own rule: inline, external data past protobuf's
    /// limit. Tests set external data for small models here to exercise the &gt; 2 GB layout in seconds.
    /// </summary>
    internal static readonly AsyncLocal<Onnx.OnnxSaveOptions?> SaveOptions = new();

    /// <summary>Saves <paramref name="encoded"/> to <paramref name="path"/> and records what the manifest needs while the bytes are fresh.</summary>
    /// <param name="encoded">The encoder's result.</param>
    /// <param name="path">Where in the scratch folder.</param>
    /// <param name="weights">The scratch file the encoded weights then move to (mapped: the probes' sessions reference it, nothing holds them twice).</param>
    public static Candidate Save(EncodeResult encoded, string path, string weights)
    {
        Onnx.OnnxModelSaver.Save(encoded.Model, path, SaveOptions.Value);
        // Hashed by the stage that wrote it, from the OS cache it was just written through; no later stage reads it back.
        var written = new WrittenModel(Cache.InputHashes.HashFile(path), WrittenWeights.Bits(encoded.Model.Graph), WrittenActivations.Dynamic(encoded.Model.Graph));
        long bytes = new FileInfo(path).Length + (File.Exists(path + ".data") ? new FileInfo(path + ".data").Length : 0);
        Onnx.OnnxModelSaver.Externalize(encoded.Model, weights, LoadStage.InlineWeightThreshold);
        return new Candidate(encoded, path, bytes, written);
    }
}
