namespace QuantBuild.Abstractions.Ir;

/// <summary>
/// Parts of the model file the IR does not model (where a tensor's bytes lived on disk, a chunked tensor's segment,
/// per-device placement), carried on the element they belong to so a save writes them back. Opaque to passes: the
/// file format's reader and writer (QuantBuild.Onnx) derive from it, and nothing in the contract depends on what it
/// holds, so the file format can change without a contract version. A pass that copies an element copies the
/// reference along (instances never change); one that gives an element new contents may set it to null.
/// </summary>
public abstract class PreservedFields
{
    /// <summary>For the file format's own subclasses.</summary>
    protected PreservedFields()
    {
    }
}
