from django.urls import path

from studio.views import account, activity, members, search, workspaces

app_name = "studio"

W = "w/<str:workspace>/"

urlpatterns = [
    path("", workspaces.HomeView.as_view(), name="home"),
    path("workspaces/", workspaces.WorkspaceListView.as_view(), name="workspace_list"),
    path("workspaces/new/", workspaces.WorkspaceCreateView.as_view(), name="workspace_create"),
    path("account/tokens/", account.TokenListView.as_view(), name="token_list"),
    path("account/tokens/<int:pk>/revoke/", account.TokenRevokeView.as_view(), name="token_revoke"),
    path(W, workspaces.WorkspaceHomeView.as_view(), name="workspace_home"),
    path(W + "settings/", workspaces.WorkspaceSettingsView.as_view(), name="workspace_settings"),
    path(W + "delete/", workspaces.WorkspaceDeleteView.as_view(), name="workspace_delete"),
    path(W + "members/", members.MemberListView.as_view(), name="member_list"),
    path(W + "members/<str:username>/role/", members.MemberRoleView.as_view(), name="member_role"),
    path(W + "members/<str:username>/remove/", members.MemberRemoveView.as_view(), name="member_remove"),
    path(W + "roles/", members.RoleListView.as_view(), name="role_list"),
    path(W + "roles/new/", members.RoleCreateView.as_view(), name="role_create"),
    path(W + "roles/<str:slug>/edit/", members.RoleEditView.as_view(), name="role_edit"),
    path(W + "roles/<str:slug>/delete/", members.RoleDeleteView.as_view(), name="role_delete"),
    path(W + "search/", search.SearchView.as_view(), name="search"),
    path(W + "activity/", activity.ActivityListView.as_view(), name="activity_list"),
]
