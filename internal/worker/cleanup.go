package worker

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/job"
)

func runCleanup(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	return job.Result{Error: fmt.Sprintf("cleanup is not built yet")}
}
