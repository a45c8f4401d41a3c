using Google.Protobuf;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx.Conversion;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Serialization;

namespace QuantBuild.Onnx;

/// <summary>
/// Single serialized tensors (ONNX TensorProto files), the format of ONNX test data sets
/// (<c>test_data_set_0/input_0.pb</c>) and of calibration data directories.
/// </summary>
public static class OnnxTensorFile
{
    /// <summary>Reads a numeric tensor file as a dense tensor that owns its bytes.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1101 if missing, QB1110 if not a numeric TensorProto.</exception>
    public static DenseTensor Load(string path)
    {
        TensorValue value = LoadValue(path);
        if (value.ElementType is ElementType.String or ElementType.Undefined || ElementTypeInfo.BitsPerElement(value.ElementType) == 0)
        {
            throw ModelFileErrors.NotATensorFile(path, $"its elements are {ElementTypeInfo.OnnxName(value.ElementType)}, not numbers");
        }

        try
        {
            // The bytes came from this file's own parse buffer, so handing them out writable is safe.
            return new DenseTensor(value.ElementType, value.Dims, System.Runtime.InteropServices.MemoryMarshal.AsMemory(value.Data));
        }
        catch (ArgumentException e)
        {
            throw ModelFileErrors.NotATensorFile(path, e.Message, e);
        }
    }

    /// <summary>Reads a tensor file with its name, keeping string tensors as strings.</summary>
    public static TensorValue LoadValue(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ModelFileReader.ReadAll(path);
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ModelFileErrors.NotATensorFile(path, "its bytes are not a TensorProto", e);
        }

        if (!proto.HasDataType || proto.DataType == 0)
        {
            throw ModelFileErrors.NotATensorFile(path, bytes.Length == 0 ? "it is empty" : "it has no element type");
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        using var external = new ExternalDataReader(path, folder);
        try
        {
            return new ProtoToIr(path, external).Tensor(proto);
        }
        catch (Abstractions.Diagnostics.QuantBuildException e) when (e.Code == ModelFileErrors.BadTensorDataCode)
        {
            throw ModelFileErrors.NotATensorFile(path, e.Message, e);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or OverflowException or InvalidCastException)
        {
            throw ModelFileErrors.NotATensorFile(path, "its fields are inconsistent: " + e.Message, e);
        }
    }

    /// <summary>Writes <paramref name="tensor"/> as a TensorProto file (raw little-endian data), atomically.</summary>
    public static void Save(DenseTensor tensor, string path, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentException.ThrowIfNullOrEmpty(path);
        TensorValue value = TensorValue.FromDense(name ?? string.Empty, tensor);
        if (name is null)
        {
            value.Name = null;
        }

        TensorProto proto = IrToProto.Tensor(value);
        try
        {
            using var file = new AtomicFile(path);
            proto.WriteTo(file.Stream);
            file.Complete();
            file.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ModelFileErrors.WriteFailed(path, e);
        }
    }
}
