using System.Text;

namespace QuantBuild.Engine.Tests.Fuzz;

/// <summary>
/// Deterministic mutations of a seed file: the same (seed, case) always gives the same bytes, so any failure the
/// fuzz tests report is reproduced by its case number alone and can be kept as a regression test.
/// </summary>
internal static class Mutator
{
    // Fragments that exercise yaml's and protobuf's sharp edges more often than random bytes would.
    private static readonly string[] YamlTokens =
    [
        "[", "]", "{", "}", "&a ", "*a", ": ", "- ", "\t", "\0", "'", "\"", "\n---\n", "!!binary ", "1e12", "-1", ".nan",
        ".inf", "~", "? ", "|\n", ">\n", "%YAML 1.2\n", "<<: *a\n", "&a [*a]", new string('[', 300), "\\u0000", "#", "@",
        "\n  output: quantbuild-report.md\n", "\ntimeout_seconds: 1e308\n", "\ngate: {max_drop: .nan}\n",
    ];

    public static string Yaml(string seed, int index)
    {
        var random = new Random(index);
        var text = new StringBuilder(seed);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(text.Length + 1);
            switch (random.Next(5))
            {
                case 0:
                    text.Insert(at, YamlTokens[random.Next(YamlTokens.Length)]);
                    break;
                case 1 when text.Length > 0:
                    text.Remove(Math.Min(at, text.Length - 1), Math.Min(1 + random.Next(20), text.Length - Math.Min(at, text.Length - 1)));
                    break;
                case 2 when text.Length > 0:
                    text[Math.Min(at, text.Length - 1)] = (char)random.Next(0, 128);
                    break;
                case 3:
                    int start = random.Next(text.Length);
                    text.Insert(at, text.ToString(start, Math.Min(40, text.Length - start)));
                    break;
                default:
                    text.Insert(at, new string(' ', random.Next(1, 5)));
                    break;
            }
        }

        return text.ToString();
    }

    public static byte[] Bytes(byte[] seed, int index)
    {
        var random = new Random(index);
        var bytes = new List<byte>(seed);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            // Structure (tags, lengths, names) sits at the ends of a model file; bulk weights in the middle.
            int at = random.Next(2) == 0 ? random.Next(Math.Min(bytes.Count, 512)) : random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16)));
                    break;
                case 3:
                    // A varint that claims a huge length, or a field number no schema has.
                    bytes.InsertRange(at, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    int start = random.Next(bytes.Count);
                    bytes.InsertRange(at, bytes.GetRange(start, Math.Min(32, bytes.Count - start)));
                    break;
            }
        }

        return bytes.ToArray();
    }
}
