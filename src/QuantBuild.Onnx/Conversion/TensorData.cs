using System.Buffers.Binary;
using Google.Protobuf;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx.Proto;

namespace QuantBuild.Onnx.Conversion;

/// <summary>
/// Normalises the many ways ONNX may store tensor elements into the one layout the IR holds: packed
/// little-endian bytes, exactly what raw_data would contain. raw_data itself is shared, never copied.
/// </summary>
internal static class TensorData
{
    /// <summary>The packed bytes of a non-string tensor, or a reason why they cannot be had.</summary>
    public static ReadOnlyMemory<byte> ToRawBytes(TensorProto tensor, string sourcePath)
    {
        var type = (ElementType)tensor.DataType;
        if (tensor.HasRawData)
        {
            return tensor.RawData.Memory;
        }

        if (tensor.FloatData.Count > 0)
        {
            Require(type is ElementType.Float or ElementType.Complex64, tensor, sourcePath, "float_data");
            var bytes = new byte[tensor.FloatData.Count * 4];
            for (int i = 0; i < tensor.FloatData.Count; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), tensor.FloatData[i]);
            }

            return bytes;
        }

        if (tensor.DoubleData.Count > 0)
        {
            Require(type is ElementType.Double or ElementType.Complex128, tensor, sourcePath, "double_data");
            var bytes = new byte[tensor.DoubleData.Count * 8];
            for (int i = 0; i < tensor.DoubleData.Count; i++)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), tensor.DoubleData[i]);
            }

            return bytes;
        }

        if (tensor.Int64Data.Count > 0)
        {
            Require(type is ElementType.Int64, tensor, sourcePath, "int64_data");
            var bytes = new byte[tensor.Int64Data.Count * 8];
            for (int i = 0; i < tensor.Int64Data.Count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), tensor.Int64Data[i]);
            }

            return bytes;
        }

        if (tensor.Uint64Data.Count > 0)
        {
            Require(type is ElementType.UInt32 or ElementType.UInt64, tensor, sourcePath, "uint64_data");
            int width = type == ElementType.UInt32 ? 4 : 8;
            var bytes = new byte[tensor.Uint64Data.Count * width];
            for (int i = 0; i < tensor.Uint64Data.Count; i++)
            {
                if (width == 4)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), (uint)tensor.Uint64Data[i]);
                }
                else
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), tensor.Uint64Data[i]);
                }
            }

            return bytes;
        }

        if (tensor.Int32Data.Count > 0)
        {
            return FromInt32Data(tensor, type, sourcePath);
        }

        return ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>Checks the byte count against dims and type, where the tensor claims to be whole.</summary>
    public static void CheckLength(TensorProto tensor, ElementType type, long length, string sourcePath)
    {
        if (type is ElementType.String || ElementTypeInfo.BitsPerElement(type) == 0 || tensor.Segment is not null)
        {
            return;
        }

        long count = 1;
        foreach (long d in tensor.Dims)
        {
            if (d < 0)
            {
                throw ModelFileErrors.BadTensorData(sourcePath, tensor.Name, $"negative dimension {d}");
            }

            count *= d;
        }

        long expected = ElementTypeInfo.ByteCount(type, count);
        if (length != expected)
        {
            throw ModelFileErrors.BadTensorData(
                sourcePath, tensor.Name, $"{ElementTypeInfo.OnnxName(type)}[{string.Join(",", tensor.Dims)}] needs {expected} bytes, found {length}");
        }
    }

    /// <summary>True when the tensor stores anything at all in a data field.</summary>
    public static bool HasAnyData(TensorProto tensor) => tensor.HasRawData || tensor.FloatData.Count > 0
        || tensor.DoubleData.Count > 0 || tensor.Int32Data.Count > 0 || tensor.Int64Data.Count > 0
        || tensor.Uint64Data.Count > 0 || tensor.StringData.Count > 0;

    /// <summary>Zero-copy wrap of IR bytes for writing.</summary>
    public static ByteString Wrap(ReadOnlyMemory<byte> bytes) => UnsafeByteOperations.UnsafeWrap(bytes);

    private static byte[] FromInt32Data(TensorProto tensor, ElementType type, string sourcePath)
    {
        // int32_data carries one element per entry for 8/16/32-bit types, but one already-packed byte per
        // entry for the sub-byte types (ONNX packs those before storing them in any field).
        int width = type switch
        {
            ElementType.Int32 => 4,
            ElementType.Int16 or ElementType.UInt16 or ElementType.Float16 or ElementType.BFloat16 => 2,
            ElementType.Int8 or ElementType.UInt8 or ElementType.Bool or ElementType.Float8E4M3FN
                or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ
                or ElementType.Float8E8M0 or ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1
                or ElementType.UInt2 or ElementType.Int2 => 1,
            _ => 0,
        };
        Require(width != 0, tensor, sourcePath, "int32_data");

        var bytes = new byte[tensor.Int32Data.Count * width];
        for (int i = 0; i < tensor.Int32Data.Count; i++)
        {
            int v = tensor.Int32Data[i];
            switch (width)
            {
                case 4:
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), v);
                    break;
                case 2:
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), unchecked((ushort)v));
                    break;
                default:
                    bytes[i] = unchecked((byte)v);
                    break;
            }
        }

        return bytes;
    }

    private static void Require(bool ok, TensorProto tensor, string sourcePath, string field)
    {
        if (!ok)
        {
            throw ModelFileErrors.BadTensorData(
                sourcePath, tensor.Name, $"{field} cannot hold {ElementTypeInfo.OnnxName((ElementType)tensor.DataType)} elements");
        }
    }
}
