using QuantBuild.Engine.Calibration;

namespace QuantBuild.Engine.Tests.Calibration;

public sealed class ObserverThreadsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Every_index_runs_exactly_once_call_after_call(int threads)
    {
        using var pool = new ObserverThreads(threads);
        for (int round = 0; round < 50; round++)
        {
            int count = round % 7;
            var seen = new int[count];
            pool.For(count, i => Interlocked.Increment(ref seen[i]));
            Assert.All(seen, s => Assert.Equal(1, s));
        }
    }

    [Fact]
    public void A_failing_item_surfaces_on_the_caller_and_the_threads_stay_usable()
    {
        using var pool = new ObserverThreads(2);
        var error = Assert.Throws<InvalidOperationException>(() => pool.For(64, i =>
        {
            if (i == 17)
            {
                throw new InvalidOperationException("item 17");
            }
        }));
        Assert.Equal("item 17", error.Message);

        int sum = 0;
        pool.For(10, i => Interlocked.Add(ref sum, i));
        Assert.Equal(45, sum);
    }
}
