using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Tests.Sessions;

public sealed class MemoryBudgetTests
{
    [Theory]
    [InlineData("2GB", 2L << 30)]
    [InlineData("512MB", 512L << 20)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("800m", 800L << 20)]
    [InlineData(" 4 gb ", 4L << 30)]
    [InlineData("134217728", 128L << 20)]
    public void Sizes_with_or_without_a_unit_parse_to_bytes(string text, long bytes) =>
        Assert.Equal(bytes, MemoryBudget.Parse(text).Bytes);

    [Theory]
    [InlineData("lots")]
    [InlineData("")]
    [InlineData("-1GB")]
    [InlineData("2XB")]
    [InlineData("1.2.3GB")]
    [InlineData("10MB")]
    [InlineData("0")]
    [InlineData("99999999999TB")]
    public void Nonsense_and_too_small_budgets_are_QB1030(string text)
    {
        var error = Assert.Throws<QuantBuildException>(() => MemoryBudget.Parse(text));
        Assert.Equal("QB1030", error.Code);
        Assert.Contains("--memory-budget", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_is_half_the_memory_the_process_may_use()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Assert.Equal(Math.Max(MemoryBudget.Minimum, available / 2), MemoryBudget.Default().Bytes);
    }
}
