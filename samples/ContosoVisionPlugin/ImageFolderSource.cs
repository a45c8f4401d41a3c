using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;

namespace Contoso.Vision;

/// <summary>The images of one folder as samples; each <see cref="Read"/> decodes only the files it returns.</summary>
internal sealed class ImageFolderSource(string folder, string input, string[] files, int channels, int height, int width, ImageFolderOptions options)
    : IDataSource
{
    public string Description => $"{folder} ({files.Length} images)";

    public IReadOnlyList<string> Names { get; } = [input];

    public long SampleCount => files.Length;

    public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count)
    {
        int plane = height * width;
        var values = new float[count * channels * plane];
        for (int i = 0; i < count; i++)
        {
            NetpbmImage image = NetpbmImage.Read(files[start + i]);
            if (image.Width != width || image.Height != height)
            {
                if (options.Resize == ImageResize.None)
                {
                    throw new QuantBuildException("QB7102", $"{files[start + i]} is {image.Width}x{image.Height}, the model input '{input}' takes {width}x{height}, and 'resize' is none.",
                        "set 'resize: bilinear' (or nearest), or resize the images beforehand", files[start + i]);
                }

                image = Resizer.Resize(image, width, height, options.Resize);
            }

            Span<float> sample = values.AsSpan(i * channels * plane, channels * plane);
            for (int c = 0; c < channels; c++)
            {
                // A grayscale image feeds every channel; an RGB image feeds a one-channel input as its luma.
                double mean = options.Mean[options.Mean.Count == 1 ? 0 : c];
                double std = options.Std[options.Std.Count == 1 ? 0 : c];
                for (int p = 0; p < plane; p++)
                {
                    double pixel = Pixel(image, p, c, channels);
                    sample[c * plane + p] = (float)((pixel * options.Scale - mean) / std);
                }
            }
        }

        return new Dictionary<string, DenseTensor> { [input] = DenseTensor.FromFloats(values, count, channels, height, width) };
    }

    public void Dispose()
    {
    }

    private static double Pixel(NetpbmImage image, int p, int c, int channels)
    {
        byte[] px = image.Pixels;
        if (image.Channels == 1)
        {
            return px[p];
        }

        return channels == 1
            ? (0.299 * px[p * 3]) + (0.587 * px[p * 3 + 1]) + (0.114 * px[p * 3 + 2])
            : px[p * 3 + Math.Min(c, 2)];
    }
}
