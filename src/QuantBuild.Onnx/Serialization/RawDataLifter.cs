using System.Buffers;
using System.Globalization;
using System.Text;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// Makes loading cost one copy of the weights instead of two. Google.Protobuf copies every bytes field out of
/// the input, so before parsing, this walks the wire format and replaces each large raw_data with a small
/// external-data entry pointing back into the file buffer; the IR then slices the buffer instead.
/// The rewritten message is internal only and never written anywhere.
/// </summary>
internal static class RawDataLifter
{
    /// <summary>A location no file path can have (NUL), used only between this class and the converter.</summary>
    public const string BufferLocation = "\0quantbuild-source-buffer";

    private const int MinimumBytes = 4096;

    private enum Kind
    {
        Model,
        Graph,
        Node,
        Attribute,
        Training,
        Function,
        Sparse,
        Tensor,
    }

    /// <summary>
    /// The rewritten message and the (offset, length) ranges lifted, or null when nothing is worth lifting or
    /// the bytes are not shaped as expected (the caller then parses the original, which reports any error).
    /// </summary>
    public static (byte[] Bytes, HashSet<(long Offset, long Length)> Lifted)? Lift(byte[] source)
    {
        var lifted = new HashSet<(long, long)>();
        var output = new ArrayBufferWriter<byte>(Math.Min(source.Length, 1 << 20));
        if (!Rewrite(source, 0, source.Length, Kind.Model, 0, output, lifted) || lifted.Count == 0)
        {
            return null;
        }

        return (output.WrittenSpan.ToArray(), lifted);
    }

    private static Kind? Child(Kind parent, int field) => (parent, field) switch
    {
        (Kind.Model, 7) => Kind.Graph,
        (Kind.Model, 20) => Kind.Training,
        (Kind.Model, 25) => Kind.Function,
        (Kind.Graph, 1) => Kind.Node,
        (Kind.Graph, 5) => Kind.Tensor,
        (Kind.Graph, 15) => Kind.Sparse,
        (Kind.Node, 5) => Kind.Attribute,
        (Kind.Attribute, 5 or 10) => Kind.Tensor,
        (Kind.Attribute, 6 or 11) => Kind.Graph,
        (Kind.Attribute, 22 or 23) => Kind.Sparse,
        (Kind.Training, 1 or 2) => Kind.Graph,
        (Kind.Function, 7) => Kind.Node,
        (Kind.Function, 11) => Kind.Attribute,
        (Kind.Sparse, 1 or 2) => Kind.Tensor,
        _ => null,
    };

    private static bool Rewrite(byte[] source, int start, int end, Kind kind, int depth, IBufferWriter<byte> output, HashSet<(long, long)> lifted)
    {
        // Deeper than protobuf itself will parse: give up, so the parser reports the nesting instead of this
        // recursion overflowing the stack (a file with ~20,000 nested subgraphs did).
        if (depth > ModelFileReader.MaxNesting)
        {
            return false;
        }

        if (kind == Kind.Tensor)
        {
            return RewriteTensor(source, start, end, output, lifted);
        }

        int pos = start;
        while (pos < end)
        {
            int fieldStart = pos;
            if (!TryReadField(source, ref pos, end, out int field, out int wire, out int valueStart))
            {
                return false;
            }

            if (wire == 2 && Child(kind, field) is Kind child)
            {
                var inner = new ArrayBufferWriter<byte>(Math.Max(16, Math.Min(pos - valueStart, 1 << 16)));
                if (!Rewrite(source, valueStart, pos, child, depth + 1, inner, lifted))
                {
                    return false;
                }

                WriteVarint(output, Tag(field, 2));
                WriteVarint(output, (ulong)inner.WrittenCount);
                output.Write(inner.WrittenSpan);
            }
            else
            {
                output.Write(source.AsSpan(fieldStart, pos - fieldStart));
            }
        }

        return pos == end;
    }

    private static bool RewriteTensor(byte[] source, int start, int end, IBufferWriter<byte> output, HashSet<(long, long)> lifted)
    {
        int rawFields = 0;
        int rawStart = 0;
        int rawEnd = 0;
        bool external = false;
        int pos = start;
        while (pos < end)
        {
            if (!TryReadField(source, ref pos, end, out int field, out int wire, out int valueStart))
            {
                return false;
            }

            if (field == 9 && wire == 2)
            {
                rawFields++;
                rawStart = valueStart;
                rawEnd = pos;
            }

            external |= field is 13 or 14;
        }

        if (pos != end || rawFields != 1 || external || rawEnd - rawStart < MinimumBytes)
        {
            output.Write(source.AsSpan(start, end - start));
            return pos == end;
        }

        pos = start;
        while (pos < end)
        {
            int fieldStart = pos;
            TryReadField(source, ref pos, end, out int field, out _, out _);
            if (field != 9)
            {
                output.Write(source.AsSpan(fieldStart, pos - fieldStart));
            }
        }

        long offset = rawStart;
        long length = rawEnd - rawStart;
        WriteEntry(output, "location", BufferLocation);
        WriteEntry(output, "offset", offset.ToString(CultureInfo.InvariantCulture));
        WriteEntry(output, "length", length.ToString(CultureInfo.InvariantCulture));
        WriteVarint(output, Tag(14, 0));
        WriteVarint(output, 1);
        lifted.Add((offset, length));
        return true;
    }

    // One external_data entry: a StringStringEntryProto in TensorProto field 13.
    private static void WriteEntry(IBufferWriter<byte> output, string key, string value)
    {
        int keyLength = Encoding.UTF8.GetByteCount(key);
        int valueLength = Encoding.UTF8.GetByteCount(value);
        int entryLength = 1 + VarintSize((ulong)keyLength) + keyLength + 1 + VarintSize((ulong)valueLength) + valueLength;
        WriteVarint(output, Tag(13, 2));
        WriteVarint(output, (ulong)entryLength);
        WriteString(output, 1, key, keyLength);
        WriteString(output, 2, value, valueLength);
    }

    private static void WriteString(IBufferWriter<byte> output, int field, string text, int byteCount)
    {
        WriteVarint(output, Tag(field, 2));
        WriteVarint(output, (ulong)byteCount);
        Span<byte> span = output.GetSpan(byteCount);
        Encoding.UTF8.GetBytes(text, span);
        output.Advance(byteCount);
    }

    private static ulong Tag(int field, int wire) => ((ulong)field << 3) | (uint)wire;

    private static bool TryReadField(byte[] s, ref int pos, int end, out int field, out int wire, out int valueStart)
    {
        field = 0;
        wire = 0;
        valueStart = 0;
        if (!TryVarint(s, ref pos, end, out ulong tag) || tag >> 3 is 0 or > int.MaxValue)
        {
            return false;
        }

        field = (int)(tag >> 3);
        wire = (int)(tag & 7);
        switch (wire)
        {
            case 0:
                valueStart = pos;
                return TryVarint(s, ref pos, end, out _);
            case 1:
                valueStart = pos;
                pos += 8;
                return pos <= end;
            case 5:
                valueStart = pos;
                pos += 4;
                return pos <= end;
            case 2:
                if (!TryVarint(s, ref pos, end, out ulong length) || length > (ulong)(end - pos))
                {
                    return false;
                }

                valueStart = pos;
                pos += (int)length;
                return true;
            default:
                return false;
        }
    }

    private static bool TryVarint(byte[] s, ref int pos, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && pos < end; shift += 7)
        {
            byte b = s[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    private static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static void WriteVarint(IBufferWriter<byte> output, ulong value)
    {
        Span<byte> span = output.GetSpan(10);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        output.Advance(i);
    }
}
