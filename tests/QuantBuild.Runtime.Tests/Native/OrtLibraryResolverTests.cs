using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Runtime.Native;

namespace QuantBuild.Runtime.Tests.Native;

/// <summary>The resolver is tested directly, never through the process-wide runtime, so each case is isolated.</summary>
public sealed class OrtLibraryResolverTests
{
    [Fact]
    public void A_missing_override_path_gives_QB6001_naming_that_path()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"qb-no-such-dir-{Guid.NewGuid():N}", "libonnxruntime.so.1");

        var error = Assert.Throws<QuantBuildException>(() => OrtLibraryResolver.Load(
            missing, AppContext.BaseDirectory, OrtLibraryResolver.CurrentRid(), OrtLibraryResolver.CurrentFileNames()));

        Assert.Equal("QB6001", error.Code);
        Assert.Contains(missing, error.Message);
        Assert.Contains("QUANTBUILD_ORT_LIBRARY", error.Message);
        Assert.Equal(missing, error.FilePath);
        Assert.Contains("QUANTBUILD_ORT_LIBRARY", error.Fix);
    }

    [Fact]
    public void A_missing_override_is_not_silently_replaced_by_the_bundled_library()
    {
        // The bundled library exists in this test's output; an explicit override must still win and fail.
        Assert.Throws<QuantBuildException>(() => OrtLibraryResolver.Load(
            "/nonexistent/libonnxruntime.so.1", AppContext.BaseDirectory, OrtLibraryResolver.CurrentRid(), OrtLibraryResolver.CurrentFileNames()));
    }

    [Fact]
    public void When_nothing_loads_QB6001_lists_every_path_tried_and_says_how_to_fix_it()
    {
        string empty = Directory.CreateTempSubdirectory("qb-ort-").FullName;
        try
        {
            string[] names = ["libqb-definitely-absent.so.1", "libqb-definitely-absent.so"];

            var error = Assert.Throws<QuantBuildException>(() => OrtLibraryResolver.Load(null, empty, "linux-x64", names));

            Assert.Equal("QB6001", error.Code);
            Assert.Contains(Path.Combine(empty, "runtimes", "linux-x64", "native", names[0]), error.Message);
            Assert.Contains(Path.Combine(empty, "runtimes", "linux-x64", "native", names[1]), error.Message);
            Assert.Contains($"{names[0]} (operating system search)", error.Message);
            Assert.Contains($"{names[1]} (operating system search)", error.Message);
            Assert.Contains("QuantBuildSkipOrtFetch", error.Fix);
            Assert.Contains("QUANTBUILD_ORT_LIBRARY", error.Fix);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void A_library_that_is_not_onnx_runtime_is_refused_with_the_reason()
    {
        // Any loadable native library without OrtGetApiBase will do; the .NET runtime ships several.
        string other = Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, OperatingSystem.IsWindows() ? "*.dll" : "libSystem.Native*").First();

        var error = Assert.Throws<QuantBuildException>(() => OrtLibraryResolver.Load(
            other, AppContext.BaseDirectory, OrtLibraryResolver.CurrentRid(), OrtLibraryResolver.CurrentFileNames()));

        Assert.Equal("QB6001", error.Code);
        Assert.Contains("no OrtGetApiBase export", error.Message);
    }

    [Fact]
    public void The_library_the_build_fetched_loads_from_runtimes_rid_native_and_serves_api_30()
    {
        var loaded = OrtLibraryResolver.Load(
            null, AppContext.BaseDirectory, OrtLibraryResolver.CurrentRid(), OrtLibraryResolver.CurrentFileNames());

        Assert.Equal(
            Path.Combine(AppContext.BaseDirectory, "runtimes", OrtLibraryResolver.CurrentRid(), "native", OrtLibraryResolver.CurrentFileNames()[0]),
            loaded.Path);
        Assert.Equal("1.30.0", loaded.Version);
        Assert.NotEqual(0, loaded.ApiTable);
    }

    [Fact]
    public void The_build_output_carries_the_library_for_all_five_runtimes()
    {
        string[] expected =
        [
            "runtimes/linux-x64/native/libonnxruntime.so.1",
            "runtimes/linux-arm64/native/libonnxruntime.so.1",
            "runtimes/osx-arm64/native/libonnxruntime.1.dylib",
            "runtimes/win-x64/native/onnxruntime.dll",
            "runtimes/win-arm64/native/onnxruntime.dll",
        ];

        foreach (string relative in expected)
        {
            var file = new FileInfo(Path.Combine(AppContext.BaseDirectory, relative));
            Assert.True(file.Exists, $"{relative} is missing from the test output");
            Assert.True(file.Length > 10_000_000, $"{relative} is only {file.Length} bytes");
        }
    }

    [Fact]
    public void OrtLibrary_reports_the_version_in_use()
    {
        Assert.Equal("1.30.0", OrtLibrary.Version);
        Assert.Equal(30, OrtLibrary.ApiVersion);
    }
}
