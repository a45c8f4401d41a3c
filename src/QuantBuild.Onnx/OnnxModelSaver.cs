using Google.Protobuf;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Conversion;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Serialization;

namespace QuantBuild.Onnx;

/// <summary>
/// Writes the graph IR as an ONNX model file. Saving is atomic (temp file beside the target, then rename),
/// deterministic (same model and options give the same bytes) and never touches the model it was loaded from.
/// </summary>
public static class OnnxModelSaver
{
    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/>, replacing any existing file only once complete.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1108 when the model cannot fit protobuf's limit, QB1109 on I/O failure.</exception>
    public static void Save(OnnxModel model, string path, OnnxSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= OnnxSaveOptions.Default;
        string fullPath = Path.GetFullPath(path);

        ModelProto proto = IrToProto.Model(model);
        List<TensorProto> tensors = [.. TensorProtoWalker.All(proto)];
        long inline = InlineBytes(tensors);
        bool external = options.UseExternalData || inline > options.ProtobufSizeLimit;

        AtomicFile? dataFile = null;
        AtomicFile? modelFile = null;
        try
        {
            if (external)
            {
                string dataName = options.ExternalDataFileName ?? Path.GetFileName(fullPath) + ".data";
                dataFile = ExternalDataWriter.MoveOut(tensors, fullPath, dataName, options.ExternalDataThreshold, options.ExternalDataAlignment);
                inline = InlineBytes(tensors);
            }

            if (inline > options.ProtobufSizeLimit)
            {
                throw ModelFileErrors.TooLarge(path, inline);
            }

            modelFile = new AtomicFile(fullPath);
            using (var output = new CodedOutputStream(modelFile.Stream, 1 << 16, leaveOpen: true))
            {
                proto.WriteTo(output);
                output.Flush();
            }

            modelFile.Complete();
            dataFile?.Complete();

            // The side file first: a model never points at data that is not there yet.
            dataFile?.Commit();
            modelFile.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ModelFileErrors.WriteFailed(path, e);
        }
        finally
        {
            modelFile?.Dispose();
            dataFile?.Dispose();
        }
    }

    /// <summary>Serializes <paramref name="model"/> with every tensor inline, for hashing or in-memory use.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1108 when the model is too large for one protobuf message.</exception>
    public static byte[] SaveToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto proto = IrToProto.Model(model);
        long inline = InlineBytes(TensorProtoWalker.All(proto));
        if (inline > OnnxSaveOptions.DefaultProtobufSizeLimit)
        {
            throw ModelFileErrors.TooLarge("<memory>", inline);
        }

        return proto.ToByteArray();
    }

    private static long InlineBytes(IEnumerable<TensorProto> tensors)
    {
        long total = 0;
        foreach (TensorProto t in tensors)
        {
            total += t.RawData.Length;
            foreach (ByteString s in t.StringData)
            {
                total += s.Length;
            }
        }

        return total;
    }
}
