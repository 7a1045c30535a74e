package gate

// CIContext is who and what is asking, from the environment a CI system
// gives its jobs: GitHub Actions, GitLab CI or Jenkins, detected by their
// own marker variables. Keys: system, repository, job, run_id, actor,
// commit, ref, url; only those the system sets. Nil outside CI.
func CIContext(getenv func(string) string) map[string]string {
	type source struct{ key, env string }
	var system string
	var from []source
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		system = "github-actions"
		from = []source{{"repository", "GITHUB_REPOSITORY"}, {"job", "GITHUB_JOB"}, {"workflow", "GITHUB_WORKFLOW"},
			{"run_id", "GITHUB_RUN_ID"}, {"run_attempt", "GITHUB_RUN_ATTEMPT"}, {"actor", "GITHUB_ACTOR"},
			{"commit", "GITHUB_SHA"}, {"ref", "GITHUB_REF"}}
	case getenv("GITLAB_CI") == "true":
		system = "gitlab-ci"
		from = []source{{"repository", "CI_PROJECT_PATH"}, {"job", "CI_JOB_NAME"}, {"run_id", "CI_PIPELINE_ID"},
			{"job_id", "CI_JOB_ID"}, {"actor", "GITLAB_USER_LOGIN"}, {"commit", "CI_COMMIT_SHA"},
			{"ref", "CI_COMMIT_REF_NAME"}, {"url", "CI_JOB_URL"}}
	case getenv("JENKINS_URL") != "":
		system = "jenkins"
		from = []source{{"repository", "GIT_URL"}, {"job", "JOB_NAME"}, {"run_id", "BUILD_NUMBER"},
			{"actor", "BUILD_USER_ID"}, {"commit", "GIT_COMMIT"}, {"ref", "GIT_BRANCH"}, {"url", "BUILD_URL"}}
	default:
		return nil
	}
	out := map[string]string{"system": system}
	for _, s := range from {
		if s.env == "" {
			continue
		}
		if v := getenv(s.env); v != "" {
			out[s.key] = v
		}
	}
	if system == "github-actions" {
		if server, repo, run := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"); server != "" && repo != "" && run != "" {
			out["url"] = server + "/" + repo + "/actions/runs/" + run
		}
	}
	if system == "jenkins" && out["actor"] == "" {
		if v := getenv("CHANGE_AUTHOR"); v != "" {
			out["actor"] = v
		}
	}
	return out
}
