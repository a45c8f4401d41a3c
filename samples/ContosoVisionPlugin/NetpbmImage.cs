using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;

namespace Contoso.Vision;

/// <summary>
/// One binary Netpbm image: P5 (grayscale) or P6 (RGB), 8 bits per sample. The format is a text header
/// ("P5 width height maxval", '#' comments allowed) followed by the raw samples, row-major, channels interleaved.
/// </summary>
public sealed class NetpbmImage
{
    private NetpbmImage(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>1 for P5, 3 for P6.</summary>
    public int Channels { get; }

    /// <summary>Samples, row-major, channels interleaved.</summary>
    public byte[] Pixels { get; }

    /// <summary>An image of <paramref name="pixels"/> (row-major, channels interleaved).</summary>
    public static NetpbmImage FromPixels(int width, int height, int channels, byte[] pixels) => new(width, height, channels, pixels);

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="QuantBuildException">QB7101: not a P5/P6 file with 8-bit samples, or truncated.</exception>
    public static NetpbmImage Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int at = 0;
        string magic = Token(bytes, ref at, path);
        int channels = magic switch
        {
            "P5" => 1,
            "P6" => 3,
            _ => throw Bad(path, $"starts with '{magic}', not P5 (grayscale) or P6 (RGB)"),
        };
        int width = Number(bytes, ref at, path);
        int height = Number(bytes, ref at, path);
        int maxValue = Number(bytes, ref at, path);
        if (maxValue is < 1 or > 255)
        {
            throw Bad(path, $"has maxval {maxValue}; only 8-bit samples (maxval up to 255) are read");
        }

        at++; // the single whitespace byte that ends the header
        long size = (long)width * height * channels;
        if (width < 1 || height < 1 || bytes.Length - at < size)
        {
            throw Bad(path, $"declares {width}x{height}x{channels} samples but holds {Math.Max(0, bytes.Length - at)} bytes after its header");
        }

        return new NetpbmImage(width, height, channels, bytes.AsSpan(at, (int)size).ToArray());
    }

    private static int Number(byte[] bytes, ref int at, string path)
    {
        string token = Token(bytes, ref at, path);
        return int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw Bad(path, $"has '{token}' where its header needs a number");
    }

    private static string Token(byte[] bytes, ref int at, string path)
    {
        while (at < bytes.Length && (char.IsWhiteSpace((char)bytes[at]) || bytes[at] == '#'))
        {
            if (bytes[at] == '#')
            {
                while (at < bytes.Length && bytes[at] != '\n')
                {
                    at++;
                }
            }
            else
            {
                at++;
            }
        }

        int start = at;
        while (at < bytes.Length && !char.IsWhiteSpace((char)bytes[at]) && at - start < 16)
        {
            at++;
        }

        return start < bytes.Length ? System.Text.Encoding.ASCII.GetString(bytes, start, at - start) : throw Bad(path, "ends inside its header");
    }

    private static QuantBuildException Bad(string path, string what) =>
        new("QB7101", $"{path} {what}.", "convert the images to binary PGM (P5) or PPM (P6) with 8-bit samples, for example with 'convert in.png -depth 8 out.pgm'", path);
}
