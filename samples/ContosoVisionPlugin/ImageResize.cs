namespace Contoso.Vision;

/// <summary>How an image whose size differs from the model input's is brought to it.</summary>
public enum ImageResize
{
    /// <summary>Refuse it (QB7102): the data must already be the model's size.</summary>
    None,

    /// <summary>Nearest neighbour.</summary>
    Nearest,

    /// <summary>Bilinear, pixel centres aligned (as PIL and OpenCV resize).</summary>
    Bilinear,
}
