namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// A cheap look at the top level of the wire format, to tell "this is not an ONNX model at all" (text,
/// random bytes, an LFS pointer) from "this is an ONNX model that was cut short". Protobuf's own errors
/// cannot: a random length prefix reads as truncation too.
/// </summary>
internal static class ModelEnvelope
{
    public enum Verdict
    {
        LooksLikeModel,
        Truncated,
        NotAModel,
    }

    // ModelProto's fields and their wire types: 0 = varint, 2 = length-delimited.
    private static readonly Dictionary<int, int> KnownFields = new()
    {
        [1] = 0, [2] = 2, [3] = 2, [4] = 2, [5] = 0, [6] = 2, [7] = 2, [8] = 2,
        [14] = 2, [20] = 2, [25] = 2, [26] = 2,
    };

    public static Verdict Inspect(ReadOnlySpan<byte> bytes)
    {
        int pos = 0;
        bool first = true;
        while (pos < bytes.Length)
        {
            if (!TryVarint(bytes, ref pos, out ulong tag))
            {
                return first ? Verdict.NotAModel : Verdict.Truncated;
            }

            int field = (int)Math.Min(tag >> 3, int.MaxValue);
            int wire = (int)(tag & 7);
            bool known = KnownFields.TryGetValue(field, out int expected) && expected == wire;

            // A later field may be one newer than this schema, but a file must open with one we know.
            if (first && !known || field == 0 || wire is 3 or 4 or 6 or 7)
            {
                return Verdict.NotAModel;
            }

            first = false;
            switch (wire)
            {
                case 0:
                    if (!TryVarint(bytes, ref pos, out _))
                    {
                        return Verdict.Truncated;
                    }

                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                default:
                    if (!TryVarint(bytes, ref pos, out ulong length))
                    {
                        return Verdict.Truncated;
                    }

                    if (length > (ulong)(bytes.Length - pos))
                    {
                        return known ? Verdict.Truncated : Verdict.NotAModel;
                    }

                    pos += (int)length;
                    break;
            }
        }

        return pos == bytes.Length ? Verdict.LooksLikeModel : Verdict.Truncated;
    }

    private static bool TryVarint(ReadOnlySpan<byte> bytes, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && pos < bytes.Length; shift += 7)
        {
            byte b = bytes[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
