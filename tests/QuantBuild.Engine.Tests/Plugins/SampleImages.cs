using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>
/// The images samples/ContosoVisionPlugin reads, written as its make_images.py writes them: the Fashion-MNIST sample's
/// normalised arrays turned back into 8-bit PGM files. Written once, into a temp folder renamed into place, so
/// concurrent test runs never see half a folder.
/// </summary>
internal static class SampleImages
{
    private const float Mean = 0.2860f;
    private const float Std = 0.3530f;

    public static void Ensure(string sample, string fashionData)
    {
        Write(Path.Combine(fashionData, "calibration.npy"), Path.Combine(sample, "images", "calibration"));
        Write(Path.Combine(fashionData, "eval_images.npy"), Path.Combine(sample, "images", "eval"));
    }

    private static void Write(string npy, string folder)
    {
        if (Directory.Exists(folder))
        {
            return;
        }

        string partial = folder + ".partial-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(partial);
        using NpyFile file = NpyFile.Open(npy);
        DenseTensor all = file.ReadAll();
        ReadOnlySpan<float> values = all.AsSpan<float>();
        int plane = (int)(all.Shape[^1] * all.Shape[^2]);
        byte[] header = "P5\n28 28\n255\n"u8.ToArray();
        for (int i = 0; i < all.Shape[0]; i++)
        {
            var bytes = new byte[header.Length + plane];
            header.CopyTo(bytes, 0);
            for (int p = 0; p < plane; p++)
            {
                bytes[header.Length + p] = (byte)Math.Clamp(Math.Round(((double)values[i * plane + p] * Std + Mean) * 255), 0, 255);
            }

            File.WriteAllBytes(Path.Combine(partial, $"{i:00000}.pgm"), bytes);
        }

        try
        {
            Directory.Move(partial, folder);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            Directory.Delete(partial, recursive: true);
        }
    }
}
