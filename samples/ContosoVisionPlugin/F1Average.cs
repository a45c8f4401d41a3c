namespace Contoso.Vision;

/// <summary>How per-class F1 scores are averaged.</summary>
public enum F1Average
{
    /// <summary>Every class counts the same, however rare: a collapsed class shows even when overall accuracy barely moves.</summary>
    Macro,

    /// <summary>Classes count by how many labels they have.</summary>
    Weighted,
}
