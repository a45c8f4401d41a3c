using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace Contoso.Vision;

/// <summary>
/// <c>reader: contoso/images</c>: every image in a folder (binary PGM or PPM) as one sample of the model's image input,
/// resized to the input's height and width and normalised as <see cref="ImageFolderOptions"/> says. Checks everything
/// it can before the first batch: the input's shape, the options against its channels, that the folder has images.
/// </summary>
public sealed class ImageFolderReader : DataReader<ImageFolderOptions>
{
    /// <inheritdoc />
    public override string Name => "images";

    /// <inheritdoc />
    public override IDataSource Open(DataReaderRequest request, ImageFolderOptions options)
    {
        if (request.Inputs.Count != 1)
        {
            throw new QuantBuildException("QB7103",
                $"contoso/images feeds one image input, but the model takes {request.Inputs.Count}: {string.Join(", ", request.Inputs.Select(i => i.Name))}.",
                "fix the other inputs under 'inputs:' in quantize.yaml, or read this model's data with another reader");
        }

        ValueInfo input = request.Inputs[0];
        long[]? dims = input.TensorType?.Shape?.Dims.Select(d => d.Value ?? -1).ToArray();
        if (input.TensorType?.ElementType != ElementType.Float || dims is not { Length: 4 } || dims[1] < 1 || dims[2] < 1 || dims[3] < 1)
        {
            throw new QuantBuildException("QB7104",
                $"contoso/images writes float [batch, channels, height, width] tensors, but input '{input.Name}' is {input.TensorType?.ElementType.ToString() ?? "untyped"} {input.TensorType?.Shape?.ToString() ?? "[?]"}.",
                "use the reader for an NCHW float image input with fixed channels, height and width ('quantbuild inspect' shows the input)");
        }

        int channels = (int)dims[1];
        if (!Fits(options.Mean, channels) || !Fits(options.Std, channels) || options.Std.Any(s => s == 0 || !double.IsFinite(s)))
        {
            throw new QuantBuildException("QB7105",
                $"contoso/images: 'mean' ({options.Mean.Count} values) and 'std' ({options.Std.Count} values) need 1 or {channels} values each for input '{input.Name}', std never 0.",
                "write one value for all channels, or one per channel, for example 'mean: [0.485, 0.456, 0.406]'");
        }

        if (!Directory.Exists(request.Path))
        {
            throw new QuantBuildException("QB7106", $"contoso/images reads a folder, but {request.Path} is a file.",
                "point 'path' at the folder holding the images", request.Path);
        }

        string[] files = Directory.GetFiles(request.Path, options.Pattern).Order(StringComparer.Ordinal).Take(options.Limit ?? int.MaxValue).ToArray();
        if (files.Length == 0)
        {
            throw new QuantBuildException("QB7106", $"contoso/images found no file matching '{options.Pattern}' in {request.Path}.",
                "put the images in that folder, or set 'pattern' (for example '*.ppm')", request.Path);
        }

        return new ImageFolderSource(request.Path, input.Name, files, channels, (int)dims[2], (int)dims[3], options);
    }

    private static bool Fits(List<double> values, int channels) => values.Count == 1 || values.Count == channels;
}
