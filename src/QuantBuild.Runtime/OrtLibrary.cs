using QuantBuild.Runtime.Native;

namespace QuantBuild.Runtime;

/// <summary>
/// Facts about the ONNX Runtime library this process uses, for reports and manifests (ORT's version changes
/// numbers, so a result should say which one produced it). Reading any member loads the library.
/// </summary>
public static class OrtLibrary
{
    /// <summary>The environment variable that names an ONNX Runtime library file to use instead of the bundled one.</summary>
    public const string LibraryVariable = OrtLibraryResolver.LibraryVariable;

    /// <summary>The ONNX Runtime C API version the binding requests (30, ONNX Runtime 1.30).</summary>
    public const int ApiVersion = (int)OrtLibraryResolver.ApiVersion;

    /// <summary>The loaded library's version string, for example <c>1.30.0</c>.</summary>
    /// <exception cref="QuantBuild.Abstractions.Diagnostics.QuantBuildException">QB6001 or QB6002 when the library cannot be used.</exception>
    public static string Version => OrtRuntime.Api.Version;

    /// <summary>The file the library was loaded from (or the name the operating system resolved).</summary>
    public static string LoadedFrom => OrtRuntime.LibraryPath;
}
