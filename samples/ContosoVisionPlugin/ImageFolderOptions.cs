using System.ComponentModel.DataAnnotations;

namespace Contoso.Vision;

/// <summary>
/// The preprocessing the model was trained with, written under the reader's <c>options</c> in quantize.yaml:
/// <c>value = (pixel * scale - mean[c]) / std[c]</c>, after resizing to the model input's height and width.
/// </summary>
public sealed class ImageFolderOptions
{
    /// <summary>Which files in the folder are samples (yaml: <c>pattern</c>); read in ordinal order of their names.</summary>
    public string Pattern { get; set; } = "*.pgm";

    /// <summary>Multiplies each 8-bit pixel first (yaml: <c>scale</c>); 1/255 maps pixels to 0..1.</summary>
    [Range(1e-9, 1e9)]
    public double Scale { get; set; } = 1.0 / 255.0;

    /// <summary>Per-channel mean subtracted after scaling (one value for every channel, or one per channel).</summary>
    public List<double> Mean { get; set; } = [0.0];

    /// <summary>Per-channel standard deviation divided by after the mean (one value, or one per channel).</summary>
    public List<double> Std { get; set; } = [1.0];

    /// <summary>How to bring images of another size to the model input's (yaml: <c>resize</c>).</summary>
    public ImageResize Resize { get; set; } = ImageResize.Bilinear;

    /// <summary>At most this many files (yaml: <c>limit</c>); all when unset.</summary>
    [Range(1, int.MaxValue)]
    public int? Limit { get; set; }
}
