namespace QuantBuild.Abstractions.Ir;

/// <summary>An operator set a model or function imports: a domain ("" or "ai.onnx" for the default) and its version.</summary>
/// <param name="Domain">The operator domain; empty for the default ONNX domain.</param>
/// <param name="Version">The operator set version.</param>
public sealed record OpsetImport(string Domain, long Version)
{
    /// <summary>True for the default ONNX domain, spelled either "" or "ai.onnx".</summary>
    public bool IsDefaultDomain => Domain.Length == 0 || Domain == "ai.onnx";
}
