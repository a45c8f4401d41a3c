using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Conversion;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Serialization;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx;

/// <summary>Reads ONNX model files into the graph IR, including tensors kept in external data files.</summary>
public static class OnnxModelLoader
{
    /// <summary>Loads the model at <paramref name="path"/>; external data resolves against its folder.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1101–QB1107 for a missing, damaged or foreign file.</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ModelFileReader.ReadAll(path);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory();
        return LoadFromBytes(bytes, folder, path);
    }

    /// <summary>
    /// Loads a model from bytes already in memory. The model's tensors share <paramref name="bytes"/>,
    /// which must not be changed afterwards. External data resolves against <paramref name="externalDataFolder"/>;
    /// without one, a model that uses external data is refused.
    /// </summary>
    /// <param name="bytes">The serialized ModelProto.</param>
    /// <param name="externalDataFolder">The folder the model's external data paths are relative to, or null.</param>
    /// <param name="displayPath">The name to use in error messages.</param>
    public static OnnxModel LoadFromBytes(byte[] bytes, string? externalDataFolder = null, string displayPath = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto proto = ModelFileReader.Parse(bytes, displayPath, out HashSet<(long, long)>? lifted);
        using ExternalDataReader? external = externalDataFolder is null ? null : new ExternalDataReader(displayPath, externalDataFolder);
        try
        {
            return new ProtoToIr(displayPath, external, bytes, lifted).Model(proto);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or OverflowException or InvalidCastException
            or KeyNotFoundException or FormatException)
        {
            // The wire format parsed, but the fields contradict each other (dims vs. data, indices past an end):
            // a damaged or hand-made file, not a bug to report. The converter's own checks name most cases.
            throw ModelFileErrors.NotOnnx(displayPath, "its fields are inconsistent: " + e.Message, e);
        }
    }

    /// <summary>
    /// A deep copy of <paramref name="model"/> that a pass may change freely. File-backed weights are shared with
    /// the original (both map the same file), so copying a multi-gigabyte model costs its graph, not its weights.
    /// </summary>
    public static OnnxModel Copy(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        SessionGraph graph = OnnxModelSaver.SaveForSession(model);
        OnnxModel copy = LoadFromBytes(graph.Graph, graph.WeightsFolder, "<copy>");
        // The copy read its shared weights as external data; it is the same model, so it says where they came from
        // exactly as the original does (a tensor the run moved to its scratch file was not external in the input).
        foreach ((TensorValue original, TensorValue copied) in IrTensorWalker.All(model).Zip(IrTensorWalker.All(copy)))
        {
            OnnxTensorFields.SetExternalData(copied, OnnxTensorFields.ExternalDataOf(original));
        }

        return copy;
    }
}
