using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Runtime.Native;

/// <summary>
/// Finds and loads the ONNX Runtime library and asks it for the C API table. Pure apart from the loading
/// itself: the caller passes the override, base directory and platform, so tests can exercise every branch
/// without touching the process-wide runtime.
/// </summary>
internal static unsafe class OrtLibraryResolver
{
    /// <summary>Environment variable naming an ONNX Runtime library file to use instead of the bundled one.</summary>
    public const string LibraryVariable = "QUANTBUILD_ORT_LIBRARY";

    /// <summary>C API version requested: ONNX Runtime 1.30 serves API 30, and the binding is written against it.</summary>
    public const uint ApiVersion = 30;

    /// <summary>The library loaded and the API table it gave.</summary>
    public readonly record struct Loaded(string Path, nint Library, nint ApiTable, string Version);

    /// <summary>
    /// Loads ONNX Runtime: <paramref name="overridePath"/> alone when set (the user chose that file, so silently
    /// using another build would change numbers behind their back); otherwise
    /// <c>&lt;baseDirectory&gt;/runtimes/&lt;rid&gt;/native/&lt;name&gt;</c>, then <c>&lt;baseDirectory&gt;/&lt;name&gt;</c>, then the operating system's default search.
    /// </summary>
    /// <exception cref="QuantBuildException">QB6001 when nothing loads, QB6002 when the library is too old.</exception>
    public static Loaded Load(string? overridePath, string baseDirectory, string rid, IReadOnlyList<string> fileNames)
    {
        var tried = new List<string>();
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            string full = Path.GetFullPath(overridePath);
            if (TryLoadFile(full, tried, out Loaded loaded))
            {
                return loaded;
            }

            throw NotFound(tried, full, rid);
        }

        foreach (string name in fileNames)
        {
            string candidate = Path.Combine(baseDirectory, "runtimes", rid, "native", name);
            if (TryLoadFile(candidate, tried, out Loaded loaded))
            {
                return loaded;
            }
        }

        // A RuntimeIdentifier-specific publish of an app that references the QuantBuild.Runtime package flattens
        // runtimes/<rid>/native/ into the app folder.
        foreach (string name in fileNames)
        {
            string candidate = Path.Combine(baseDirectory, name);
            if (File.Exists(candidate) && TryLoadFile(candidate, tried, out Loaded loaded))
            {
                return loaded;
            }
        }

        foreach (string name in fileNames)
        {
            if (NativeLibrary.TryLoad(name, out nint library))
            {
                if (TryGetApi(library, $"{name} (operating system search)", tried, out Loaded loaded))
                {
                    return loaded;
                }
            }
            else
            {
                tried.Add($"{name} (operating system search): not found");
            }
        }

        throw NotFound(tried, null, rid);
    }

    /// <summary>The runtime identifier whose runtimes/&lt;rid&gt;/native folder serves this process.</summary>
    public static string CurrentRid()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        return $"{os}-{arch}";
    }

    /// <summary>The library file names ONNX Runtime uses on this operating system, most specific first.</summary>
    public static IReadOnlyList<string> CurrentFileNames() =>
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.1.dylib", "libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    private static bool TryLoadFile(string path, List<string> tried, out Loaded loaded)
    {
        loaded = default;
        if (!File.Exists(path))
        {
            tried.Add($"{path}: file does not exist");
            return false;
        }

        nint library;
        try
        {
            library = NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            tried.Add($"{path}: exists but could not be loaded ({e.Message.Trim()})");
            return false;
        }

        return TryGetApi(library, path, tried, out loaded);
    }

    private static bool TryGetApi(nint library, string path, List<string> tried, out Loaded loaded)
    {
        loaded = default;
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out nint getApiBase))
        {
            tried.Add($"{path}: loaded, but it has no OrtGetApiBase export, so it is not ONNX Runtime");
            return false;
        }

        // OrtApiBase is { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }.
        void** apiBase = ((delegate* unmanaged[Cdecl]<void**>)getApiBase)();
        var getApi = (delegate* unmanaged[Cdecl]<uint, nint>)apiBase[0];
        var getVersion = (delegate* unmanaged[Cdecl]<nint>)apiBase[1];
        string version = Marshal.PtrToStringUTF8(getVersion()) ?? "unknown";
        nint table = getApi(ApiVersion);
        if (table == 0)
        {
            throw new QuantBuildException(
                "QB6002",
                $"ONNX Runtime {version} at {path} is too old: QuantBuild needs ONNX Runtime 1.30 or newer (C API version {ApiVersion}).",
                $"Point {LibraryVariable} at ONNX Runtime 1.30 or newer, or unset it to use the library the build fetched into runtimes/<rid>/native.",
                file: path);
        }

        loaded = new Loaded(path, library, table, version);
        return true;
    }

    private static QuantBuildException NotFound(List<string> tried, string? overridePath, string rid)
    {
        string fix = overridePath is not null
            ? $"Set {LibraryVariable} to the full path of an existing ONNX Runtime 1.30+ library file (libonnxruntime.so.1, libonnxruntime.1.dylib or onnxruntime.dll), or unset it to use the library the build fetched."
            : $"Build the project without -p:QuantBuildSkipOrtFetch=true so the build fetches ONNX Runtime into runtimes/{rid}/native next to the app, or set {LibraryVariable} to the full path of an ONNX Runtime 1.30+ library.";
        return new QuantBuildException(
            "QB6001",
            $"ONNX Runtime could not be loaded{(overridePath is null ? string.Empty : $" from {LibraryVariable}={overridePath}")}. Tried: {string.Join("; ", tried)}.",
            fix,
            file: overridePath);
    }
}
